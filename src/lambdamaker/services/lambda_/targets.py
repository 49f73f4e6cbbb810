"""What an Invoke runs: the function version (or an alias's weighted pair of versions) as
``FunctionSpec``s for the engine, resolved from the store once and then served from memory.

The sync invoke path must not touch SQL (DESIGN.md, "Performance architecture"), so resolved
targets are cached per (function, qualifier). Every committed change to a function drops its
entries (``invalidate``, called both when the change is made and again after its commit, with a
generation counter so that a read racing a change is never cached), and an entry is rebuilt
when its role credentials are due for renewal. The cache assumes one server process owns the
store, which is how the platform runs today.

A spec carries everything the environment needs: the unpacked code and layer trees, the
configuration, the preload list (``LAMBDAMAKER_PRELOAD``), the platform's endpoint and
temporary credentials for the execution role, so boto3 inside the function talks to us.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lambdamaker.engines.functions.spec import FunctionSpec
from lambdamaker.services.lambda_ import errors, validation
from lambdamaker.services.lambda_.arns import LATEST, Arns, is_alias
from lambdamaker.services.lambda_.code import CodeStore
from lambdamaker.services.lambda_.records import (
    VersionRecord,
    select_alias,
    select_function,
    select_version,
)
from lambdamaker.services.lambda_.role_keys import RoleCredentials
from lambdamaker.store import Store


@dataclass(frozen=True)
class VersionTarget:
    spec: FunctionSpec
    state: str
    settled: bool


@dataclass(frozen=True)
class Target:
    name: str
    qualifier: str | None
    invoked_arn: str
    primary: VersionTarget
    additional: VersionTarget | None
    weight: float
    refresh_at: float
    loop_allowed: bool = False
    """PutFunctionRecursionConfig's ``Allow``: recursive loops are not stopped."""

    def pick(self, rng: random.Random) -> VersionTarget:
        """The version this invocation runs: the alias's extra version with its weight."""
        if self.additional is not None and rng.random() < self.weight:
            return self.additional
        return self.primary

    @property
    def versions(self) -> tuple[VersionTarget, ...]:
        return (self.primary,) if self.additional is None else (self.primary, self.additional)


class TargetCache:
    def __init__(
        self,
        store: Store,
        code: CodeStore,
        arns: Arns,
        credentials: RoleCredentials,
        endpoint: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.code = code
        self.arns = arns
        self.credentials = credentials
        self.endpoint = endpoint
        self.clock = clock
        self._entries: dict[tuple[str, str | None], Target] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def invalidate(self, name: str | None = None) -> None:
        with self._lock:
            self._generation += 1
            if name is None:
                self._entries.clear()
            else:
                for key in [k for k in self._entries if k[0] == name]:
                    del self._entries[key]

    def get(self, name: str, qualifier: str | None) -> Target:
        key = (name, qualifier)
        with self._lock:
            target = self._entries.get(key)
            generation = self._generation
        if target is not None and target.refresh_at > self.clock():
            return target
        target = self._load(name, qualifier)
        with self._lock:
            if generation == self._generation:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[key] = target
        return target

    def cached(self, name: str, qualifier: str | None) -> Target | None:
        """The cached target while it is fresh; None when ``get`` would read the store (so an
        event loop can send that read to a thread)."""
        target = self._entries.get((name, qualifier))
        if target is not None and target.refresh_at > self.clock():
            return target
        return None

    # --- loading ------------------------------------------------------------------------------

    def _load(self, name: str, qualifier: str | None) -> Target:
        invoked_arn = self.arns.function(name, qualifier)
        missing = errors.function_not_found(self.arns.function(name, qualifier or LATEST))
        weights: dict[str, float] = {}
        with self.store.read() as conn:
            if qualifier is not None and is_alias(qualifier):
                alias = select_alias(conn, name, qualifier)
                if alias is None:
                    raise missing
                primary = select_version(conn, name, alias.function_version)
                weights = alias.routing
            else:
                primary = select_version(conn, name, qualifier or LATEST)
            function = select_function(conn, name)
            extra = None
            if weights:
                extra_version = next(iter(weights))
                extra = select_version(conn, name, extra_version)
        if primary is None:
            raise missing
        refresh_at = [self.clock() + 3600.0]
        first = self._version_target(primary, refresh_at)
        second = self._version_target(extra, refresh_at) if extra is not None else None
        return Target(
            name=name,
            qualifier=qualifier,
            invoked_arn=invoked_arn,
            primary=first,
            additional=second,
            weight=float(next(iter(weights.values()))) if second is not None else 0.0,
            refresh_at=refresh_at[0],
            loop_allowed=function is not None and function.recursive_loop == "Allow",
        )

    def _version_target(self, record: VersionRecord, refresh_at: list[float]) -> VersionTarget:
        spec = self.build_spec(record, refresh_at)
        return VersionTarget(spec=spec, state=record.state, settled=record.settled)

    def build_spec(
        self, record: VersionRecord, refresh_at: list[float] | None = None
    ) -> FunctionSpec:
        """The engine's view of one version. Unpacks code again if its tree went missing."""
        config = record.config
        env = record.environment
        code_dir = self.code.ensure_tree("code", record.code_hex, record.code_blob)
        layer_dirs = tuple(
            str(self.code.ensure_tree("layers", layer["Hex"], layer["Blob"]))
            for layer in record.layers
        )
        creds, renew_at = self.credentials.get(config["Role"], record.function_name)
        if refresh_at is not None:
            refresh_at[0] = min(refresh_at[0], renew_at)
        logging_config = config.get("LoggingConfig") or {}
        return FunctionSpec(
            function_name=record.function_name,
            version=record.version,
            function_arn=self.arns.function(record.function_name),
            runtime=config["Runtime"],
            handler=config["Handler"],
            code_dir=str(code_dir),
            code_sha256=record.code_sha256,
            memory_mb=int(config["MemorySize"]),
            timeout_s=int(config["Timeout"]),
            ephemeral_storage_mb=int(config.get("EphemeralStorage", 512)),
            environment=dict(env),
            layer_dirs=layer_dirs,
            preload=validation.preload_modules(env),
            role=config["Role"],
            region=self.arns.region,
            account_id=self.arns.account,
            architectures=tuple(config.get("Architectures") or ("x86_64",)),
            log_group=logging_config.get("LogGroup") or f"/aws/lambda/{record.function_name}",
            snapshot=validation.snapshot_enabled(env),
            endpoint_url=self.endpoint(),
            credentials=creds,
        )

"""The environment pool: which environment serves an invocation, and how many exist.

Per function version (``spec.key``) the pool keeps the idle environments (a stack: the most
recently used goes first, so the oldest idle ones are the ones keep-alive releases), the busy
ones, and the targets set from outside. Policy lives here; making environments is the factory's
business (a backend), so the pool is the same for every backend.

Concurrency, as Lambda counts it (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
in-flight invocations per function (all versions). A function with reserved concurrency R runs at
most R at once (R = 0: none) and is throttled with ``ReservedFunctionConcurrentInvocationLimitExceeded``;
the others share the account limit minus the sum of reservations and are throttled with
``ConcurrentInvocationLimitExceeded``. Both are ``TooManyRequestsException``, HTTP 429.
Provisioned environments count as concurrency only while busy, as on Lambda.

Provisioned concurrency keeps N initialized environments of a version alive whatever keep-alive
says; ``tick`` replaces any that died and trims any above the target. Keep-alive releases idle
on-demand environments when the ``KeepAlivePolicy`` says so, and pre-warms one when it asks to.

Time comes from a ``Clock`` (``monotonic()``) and only ``tick`` acts on it, so tests drive
keep-alive and provisioning on a fake clock. Invariants: counters change only under the lock;
environments are started and stopped outside it; an environment of a retired or superseded
configuration is never handed out again and is stopped when it comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lambdamaker.engines.functions.environment import Environment
from lambdamaker.engines.functions.keepalive_policy import KeepAlivePolicy
from lambdamaker.engines.functions.spec import FunctionSpec
from lambdamaker.errors import TooManyRequestsError

log = logging.getLogger("lambdamaker.functions")

RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
ON_DEMAND = "on-demand"
PROVISIONED = "provisioned-concurrency"

Factory = Callable[[FunctionSpec, str], Environment]
"""(spec, initialization type) -> a new environment, not started."""


class Clock(Protocol):
    def monotonic(self) -> float: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(eq=False)
class _Slot:
    env: Environment
    provisioned: bool
    idle_since: float = 0.0


@dataclass(eq=False)
class _Key:
    spec: FunctionSpec
    idle: list[_Slot] = field(default_factory=list)
    slots: set[_Slot] = field(default_factory=set)
    starting: int = 0
    provisioned_target: int = 0
    provisioned_starting: int = 0
    prewarm_at: float | None = None
    current: bool = True


@dataclass(eq=False)
class Lease:
    """One invocation's hold on an environment, from ``acquire`` to ``release``."""

    env: Environment
    cold: bool
    _key: _Key
    _slot: _Slot
    _function_arn: str
    _unreserved: bool


class EnvironmentPool:
    def __init__(
        self,
        factory: Factory,
        *,
        clock: Clock,
        keepalive: KeepAlivePolicy,
        account_limit: int = 1000,
    ) -> None:
        self._factory = factory
        self._clock = clock
        self._keepalive = keepalive
        self.account_limit = account_limit
        self._lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._inflight: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        self._reserved_total = 0
        self._unreserved_inflight = 0
        self._closed = False

    # -- invocations ----------------------------------------------------------------------------

    @property
    def keepalive(self) -> KeepAlivePolicy:
        """The policy that decides when idle environments go and pre-warmed ones come."""
        return self._keepalive

    def acquire(self, spec: FunctionSpec) -> Lease:
        """An environment for one invocation: a warm one, or a new one started here.
        Raises ``TooManyRequestsError`` when over the function's or the account's limit."""
        fn = spec.function_arn
        stale: list[_Slot] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the environment pool is closed")
            key = self._key_locked(spec, stale)
            throttled = self._admit_locked(fn)
            if throttled is None:
                unreserved = fn not in self._reserved
                self._keepalive.on_invocation(spec.key, self._clock.monotonic())
                key.prewarm_at = None
                if key.idle:
                    slot = key.idle.pop()
                    return Lease(slot.env, False, key, slot, fn, unreserved)
                key.starting += 1
        self._stop_all(stale)
        if throttled is not None:
            raise throttled
        env: Environment | None = None
        try:
            env = self._factory(spec, ON_DEMAND)
            env.start()
        except BaseException:
            with self._lock:
                key.starting -= 1
                self._uncount_locked(fn, unreserved)
            if env is not None:
                env.stop()
            raise
        slot = _Slot(env, provisioned=False)
        with self._lock:
            key.starting -= 1
            key.slots.add(slot)
        return Lease(env, True, key, slot, fn, unreserved)

    def acquire_idle(self, spec: FunctionSpec) -> Lease | None:
        """A warm idle environment for one invocation, or None when ``acquire`` has work to do
        (none idle, a new configuration to apply, a throttle to report, the pool closed). Never
        starts or stops an environment, so an event loop may call it."""
        fn = spec.function_arn
        with self._lock:
            if self._closed:
                return None
            key = self._keys.get(spec.key)
            if key is None or not key.idle or not (key.spec is spec or key.spec == spec):
                return None
            if self._admit_locked(fn) is not None:
                return None
            self._keepalive.on_invocation(spec.key, self._clock.monotonic())
            key.prewarm_at = None
            slot = key.idle.pop()
            return Lease(slot.env, False, key, slot, fn, fn not in self._reserved)

    def release(self, lease: Lease) -> None:
        """The invocation is over: the environment goes back, or is stopped if it is dead or
        belongs to a configuration that is no longer current."""
        if not self.checkin(lease):
            lease.env.stop()

    def checkin(self, lease: Lease) -> bool:
        """``release`` without the stop: False when the caller must stop the environment."""
        healthy = lease.env.alive()
        with self._lock:
            self._uncount_locked(lease._function_arn, lease._unreserved)
            key, slot = lease._key, lease._slot
            if healthy and key.current and not self._closed:
                slot.idle_since = self._clock.monotonic()
                key.idle.append(slot)
                return True
            key.slots.discard(slot)
        return False

    def discard(self, lease: Lease) -> None:
        """The environment died before the invocation reached it: stop it, count nothing."""
        self.drop(lease)
        lease.env.stop()

    def drop(self, lease: Lease) -> None:
        """``discard`` without the stop (the caller stops the environment)."""
        with self._lock:
            self._uncount_locked(lease._function_arn, lease._unreserved)
            lease._key.slots.discard(lease._slot)

    def _admit_locked(self, fn: str) -> TooManyRequestsError | None:
        """Count one more invocation of ``fn``, or say why it is throttled."""
        inflight = self._inflight.get(fn, 0)
        reserved = self._reserved.get(fn)
        if reserved is not None:
            if inflight >= reserved:
                return _throttle(RESERVED_LIMIT)
        elif self._unreserved_inflight >= self.account_limit - self._reserved_total:
            return _throttle(ACCOUNT_LIMIT)
        else:
            self._unreserved_inflight += 1
        self._inflight[fn] = inflight + 1
        return None

    def _uncount_locked(self, fn: str, unreserved: bool) -> None:
        left = self._inflight.get(fn, 1) - 1
        if left:
            self._inflight[fn] = left
        else:
            self._inflight.pop(fn, None)
        if unreserved:
            self._unreserved_inflight -= 1

    def _key_locked(self, spec: FunctionSpec, stale: list[_Slot]) -> _Key:
        key = self._keys.get(spec.key)
        if key is not None and (key.spec is spec or key.spec == spec):
            return key
        fresh = _Key(spec)
        if key is not None:  # same code, new configuration: the old environments go
            key.current = False
            stale.extend(key.idle)
            key.slots.difference_update(key.idle)
            key.idle = []
            fresh.provisioned_target = key.provisioned_target
        self._keys[spec.key] = fresh
        return fresh

    # -- concurrency settings -------------------------------------------------------------------

    def set_reserved(self, function_arn: str, value: int | None) -> None:
        with self._lock:
            old = self._reserved.pop(function_arn, None)
            if old is not None:
                self._reserved_total -= old
            if value is not None:
                self._reserved[function_arn] = value
                self._reserved_total += value

    def set_provisioned(self, spec: FunctionSpec, count: int) -> None:
        stale: list[_Slot] = []
        with self._lock:
            key = self._key_locked(spec, stale)
            key.provisioned_target = max(0, count)
        self._stop_all(stale)

    def provisioned_status(self, spec: FunctionSpec) -> tuple[int, int]:
        with self._lock:
            key = self._keys.get(spec.key)
            if key is None:
                return 0, 0
            ready = sum(1 for s in key.slots if s.provisioned)
            return key.provisioned_target, min(ready, key.provisioned_target)

    def inflight(self, function_arn: str) -> int:
        with self._lock:
            return self._inflight.get(function_arn, 0)

    def environments(self, spec: FunctionSpec) -> list[Environment]:
        """Live environments of ``spec``'s version (idle and busy)."""
        with self._lock:
            key = self._keys.get(spec.key)
            return [s.env for s in key.slots] if key is not None else []

    def idle_count(self, spec: FunctionSpec) -> int:
        with self._lock:
            key = self._keys.get(spec.key)
            return len(key.idle) if key is not None else 0

    # -- time -----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Release idle environments past keep-alive, replace dead or missing provisioned ones,
        pre-warm when the policy asks. Runs whatever is due at ``clock.monotonic()``."""
        with self._tick_lock:
            now = self._clock.monotonic()
            to_stop: list[_Slot] = []
            to_start: list[tuple[_Key, str]] = []
            with self._lock:
                if self._closed:
                    return
                for name, key in self._keys.items():
                    self._tick_key_locked(name, key, now, to_stop, to_start)
            self._stop_all(to_stop)
            for key, kind in to_start:
                self._start_ahead(key, kind)

    def _tick_key_locked(
        self,
        name: str,
        key: _Key,
        now: float,
        to_stop: list[_Slot],
        to_start: list[tuple[_Key, str]],
    ) -> None:
        had_envs = bool(key.slots)
        keep: list[_Slot] = []
        for slot in key.idle:
            if not slot.env.alive():
                to_stop.append(slot)
            elif slot.provisioned:
                keep.append(slot)
            elif now >= self._keepalive.release_at(name, slot.idle_since):
                to_stop.append(slot)
            else:
                keep.append(slot)
        released = [s for s in key.idle if s not in keep]
        key.slots.difference_update(released)
        key.idle = keep
        provisioned = [s for s in key.slots if s.provisioned]
        missing = key.provisioned_target - len(provisioned) - key.provisioned_starting
        if missing > 0:
            key.provisioned_starting += missing
            to_start.extend((key, PROVISIONED) for _ in range(missing))
        elif missing < 0:
            extra = [s for s in key.idle if s.provisioned][:-missing]
            for slot in extra:
                key.idle.remove(slot)
                key.slots.discard(slot)
                to_stop.append(slot)
        empty = not key.slots and not key.starting and not key.provisioned_starting
        if empty and had_envs and released:
            key.prewarm_at = self._keepalive.prewarm_at(name, now)
        elif empty and key.prewarm_at is not None and now >= key.prewarm_at:
            key.prewarm_at = None
            key.starting += 1
            to_start.append((key, ON_DEMAND))

    def _start_ahead(self, key: _Key, kind: str) -> None:
        """Start a provisioned or pre-warmed environment and add it as idle."""
        env: Environment | None = None
        try:
            env = self._factory(key.spec, kind)
            if hasattr(env, "report_init"):  # started ahead: no request waited for its init
                env.report_init = False
            env.start()
        except Exception:
            log.warning("starting a %s environment of %s failed", kind, key.spec.key, exc_info=True)
            env = None
        with self._lock:
            if kind == PROVISIONED:
                key.provisioned_starting -= 1
            else:
                key.starting -= 1
            if env is not None and env.alive() and key.current and not self._closed:
                slot = _Slot(
                    env, provisioned=kind == PROVISIONED, idle_since=self._clock.monotonic()
                )
                key.slots.add(slot)
                key.idle.append(slot)
                return
        if env is not None:
            env.stop()

    # -- end of life ----------------------------------------------------------------------------

    def retire(self, function_arn: str, version: str | None = None) -> None:
        to_stop: list[_Slot] = []
        with self._lock:
            for name in list(self._keys):
                key = self._keys[name]
                if key.spec.function_arn != function_arn:
                    continue
                if version is not None and key.spec.version != version:
                    continue
                del self._keys[name]
                key.current = False
                to_stop.extend(key.idle)
                key.slots.difference_update(key.idle)
                key.idle = []
                self._keepalive.forget(name)
        self._stop_all(to_stop)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            slots = [s for key in self._keys.values() for s in key.slots]
            self._keys.clear()
        self._stop_all(slots)

    @staticmethod
    def _stop_all(slots: list[_Slot]) -> None:
        for slot in slots:
            try:
                slot.env.stop()
            except Exception:
                log.warning("stopping an environment failed", exc_info=True)


def _throttle(reason: str) -> TooManyRequestsError:
    return TooManyRequestsError("Rate Exceeded.", Reason=reason, Type="User")

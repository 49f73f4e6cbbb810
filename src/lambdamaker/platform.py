"""The platform: the store, the object store, credentials and the service providers, wired once.

``Platform`` is usable in-process without the HTTP server (decision 3 in DESIGN.md): build it
from a ``PlatformConfig``, ``start()`` it, call providers, ``close()`` it. The gateway wraps the
same object.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from lambdamaker.config import PlatformConfig
from lambdamaker.observability.logs import MIGRATIONS as LOG_MIGRATIONS
from lambdamaker.observability.logs import LogStore
from lambdamaker.observability.metering import MIGRATIONS as METERING_MIGRATIONS
from lambdamaker.observability.metering import Meter
from lambdamaker.security.credentials import MIGRATIONS as CREDENTIAL_MIGRATIONS
from lambdamaker.security.credentials import CredentialStore, KeyRecord
from lambdamaker.services import PROVIDERS, provider_class
from lambdamaker.store import ObjectStore, Store
from lambdamaker.store.epochs import Epochs
from lambdamaker.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from lambdamaker.services.base import Provider


class Platform:
    def __init__(
        self,
        config: PlatformConfig | None = None,
        services: Sequence[str] | None = None,
        *,
        worker: bool = False,
    ) -> None:
        self.config = config or PlatformConfig()
        self.worker = worker
        """A data-plane worker's platform (``lambdamaker.workers``): it serves requests of the
        providers that allow it and leaves migrations, recovery, sweeps and the spool area to
        the primary, which is already running."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.tmp_dir.mkdir(exist_ok=True)
        # The primary resets the epochs before anything opens the store; workers join them.
        self.epochs = Epochs(self.config.data_dir / "epochs", reset=not worker)
        self.store = Store(self.config.resolved_store_url)
        self.committer = GroupCommitter(self.store)
        """The group committer every hot write of this process goes through (items, messages,
        events, checkpoints, function logs): one transaction and one fsync per group whichever
        service the works come from, one writer taking the store's write lock instead of one
        per service taking turns, and one connection whose page cache no other writer of this
        process invalidates."""
        self._blob_stores: dict[str, ObjectStore] = {}
        self.credentials = CredentialStore(self.store, self.config.account_id, self.epochs)
        # Function logs and usage: batched writers into the store, shared by the functions
        # engine (which appends) and the CloudWatch Logs provider (which reads).
        self.logs = LogStore(
            self.store,
            account_id=self.config.account_id,
            region=self.config.region,
            committer=self.committer,
        )
        self.meter = Meter(self.store)
        names = list(services) if services is not None else list(PROVIDERS)
        self.providers: dict[str, Provider] = {name: provider_class(name)(self) for name in names}
        self.admin_key: KeyRecord | None = None
        self.endpoint_url = f"http://{self.config.host}:{self.config.port}"
        """Where this platform is served; the server sets the bound address before ``start()``
        (functions' boto3 calls come back to it)."""
        self._started = False

    def local_endpoint(self) -> str:
        """``endpoint_url`` as a client on this host reaches it: a server bound to every
        interface is reached through loopback."""
        return self.endpoint_url.replace("://0.0.0.0:", "://127.0.0.1:").replace(
            "://[::]:", "://[::1]:"
        )

    def blobs(self, namespace: str) -> ObjectStore:
        """The blob store of one owner (``s3``...): its own directory under ``objects/``, so
        one owner's start-up sweep never touches another's blobs."""
        store = self._blob_stores.get(namespace)
        if store is None:
            store = ObjectStore(self.config.objects_dir / namespace, self.config.tmp_dir)
            self._blob_stores[namespace] = store
        return store

    def new_spool_file(self) -> tuple[BinaryIO, Path]:
        """An open temp file for an arriving upload, on the blob stores' filesystem."""
        fd, name = tempfile.mkstemp(dir=self.config.tmp_dir, prefix="spool-")
        return os.fdopen(fd, "w+b"), Path(name)

    def _clear_spool(self) -> None:
        # At start-up no request is in flight: every spool file is a leftover of a crash.
        for leftover in self.config.tmp_dir.iterdir():
            try:
                leftover.unlink()
            except (FileNotFoundError, IsADirectoryError):
                pass

    def start(self) -> None:
        if self.worker:
            for provider in self.providers.values():
                provider.start_worker()
            self._started = True
            return
        self._clear_spool()
        migrations = [*CREDENTIAL_MIGRATIONS, *LOG_MIGRATIONS, *METERING_MIGRATIONS]
        for provider in self.providers.values():
            migrations.extend(provider.migrations)
        self.store.migrate(migrations)
        self.admin_key = self.credentials.ensure_admin(self.config.credentials_file)
        self.logs.start()
        self.meter.start()
        for provider in self.providers.values():
            provider.start()
        self._started = True

    def close(self) -> None:
        providers = list(self.providers.values())
        for provider in [p for p in providers if p.closes_first] + [
            p for p in providers if not p.closes_first
        ]:
            provider.close()
        if not self.worker:  # a worker never started them
            # After the providers: their engines may still append logs and usage while closing.
            self.meter.close()
            self.logs.close()
        self.store.close()
        self.epochs.close()
        self._started = False

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

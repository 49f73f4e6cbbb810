"""The platform: the store, the object store, credentials and the service providers, wired once.

``Platform`` is usable in-process without the HTTP server (decision 3 in DESIGN.md): build it
from a ``PlatformConfig``, ``start()`` it, call providers, ``close()`` it. The gateway wraps the
same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lambdamaker.config import PlatformConfig
from lambdamaker.security.credentials import MIGRATIONS as CREDENTIAL_MIGRATIONS
from lambdamaker.security.credentials import CredentialStore, KeyRecord
from lambdamaker.services import PROVIDERS, provider_class
from lambdamaker.store import ObjectStore, Store

if TYPE_CHECKING:
    from lambdamaker.services.base import Provider


class Platform:
    def __init__(
        self, config: PlatformConfig | None = None, services: Sequence[str] | None = None
    ) -> None:
        self.config = config or PlatformConfig()
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.config.resolved_store_url)
        self.objects = ObjectStore(self.config.objects_dir, self.config.tmp_dir)
        self.credentials = CredentialStore(self.store, self.config.account_id)
        names = list(services) if services is not None else list(PROVIDERS)
        self.providers: dict[str, Provider] = {name: provider_class(name)(self) for name in names}
        self.admin_key: KeyRecord | None = None
        self._started = False

    def start(self) -> None:
        migrations = list(CREDENTIAL_MIGRATIONS)
        for provider in self.providers.values():
            migrations.extend(provider.migrations)
        self.store.migrate(migrations)
        self.admin_key = self.credentials.ensure_admin(self.config.credentials_file)
        for provider in self.providers.values():
            provider.start()
        self._started = True

    def close(self) -> None:
        for provider in self.providers.values():
            provider.close()
        self.store.close()
        self._started = False

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

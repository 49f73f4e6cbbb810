"""Temporary credentials for functions' execution roles, so boto3 inside a function signs its
calls to this platform as ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION``.

Keys are the credential store's own temporary keys (``ASIA…`` with a session token), valid 12
hours. One key serves a (role, function) pair until it has less than ``RENEW_BEFORE`` left;
then a new one is minted for environments started from then on, while environments already
running keep the old key, which stays valid until it expires. ``lambda_role_keys`` remembers the
current key per principal, so a restart reuses it instead of minting a new key per start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from lambdamaker.security.credentials import CredentialStore, KeyRecord
from lambdamaker.services.lambda_.arns import role_name
from lambdamaker.services.lambda_.tables import role_keys
from lambdamaker.store import Store

KEY_LIFETIME = 43200
RENEW_BEFORE = 6 * 3600

Credentials = tuple[str, str, str | None]


class RoleCredentials:
    def __init__(
        self,
        store: Store,
        credentials: CredentialStore,
        account_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.account_id = account_id
        self.clock = clock
        self._cache: dict[str, KeyRecord] = {}
        self._lock = threading.Lock()

    def principal(self, role_arn: str, function_name: str) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{role_name(role_arn)}/{function_name}"

    def get(self, role_arn: str, function_name: str) -> tuple[Credentials, float]:
        """(access key, secret, session token) and the time after which to ask again."""
        principal = self.principal(role_arn, function_name)
        with self._lock:
            record = self._cache.get(principal)
            if record is None or not self._fresh(record):
                record = self._load(principal)
                if record is None or not self._fresh(record):
                    record = self._mint(principal)
                self._cache[principal] = record
        assert record.expires_at is not None
        creds = (record.access_key_id, record.secret_access_key, record.session_token)
        return creds, record.expires_at - RENEW_BEFORE

    def _fresh(self, record: KeyRecord) -> bool:
        return (
            record.active
            and record.expires_at is not None
            and record.expires_at - self.clock() > RENEW_BEFORE
        )

    def _load(self, principal: str) -> KeyRecord | None:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(role_keys.c.access_key_id).where(role_keys.c.principal_arn == principal)
            ).first()
        if row is None:
            return None
        return self.credentials.lookup(row.access_key_id)

    def _mint(self, principal: str) -> KeyRecord:
        with self.store.begin() as conn:
            record = self.credentials.create_key(
                principal, temporary_seconds=KEY_LIFETIME, conn=conn
            )
            assert record.expires_at is not None
            conn.execute(sa.delete(role_keys).where(role_keys.c.principal_arn == principal))
            conn.execute(
                sa.insert(role_keys).values(
                    principal_arn=principal,
                    access_key_id=record.access_key_id,
                    expires_at=record.expires_at,
                )
            )
        return record

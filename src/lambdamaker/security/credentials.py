"""Access keys: long-term (``AKIA…``) and temporary (``ASIA…`` + session token), kept in the store.

Invariants:
- Every key the gateway accepts is a row in ``access_keys``; the in-memory cache is only a cache
  (filled on lookup, dropped on every change made through this class).
- On first start an admin key pair for the account root is created and written to
  ``<data-dir>/credentials`` as an AWS shared-credentials file (``[default]``), mode 0600. The
  secret is never logged.
- Temporary keys carry a session token and an expiry; an expired key is treated as unknown by
  ``lookup`` callers via ``KeyRecord.expired``.
"""

from __future__ import annotations

import configparser
import io
import secrets
import string
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from lambdamaker.store import Migration, Store
from lambdamaker.store.migrations import create_tables
from lambdamaker.store.objects import write_file_atomic

metadata = sa.MetaData()
access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key_id", sa.String(128), primary_key=True),
    sa.Column("secret_access_key", sa.String(128), nullable=False),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("principal_arn", sa.String(2048), nullable=False),
    sa.Column("user_name", sa.String(128), nullable=True, index=True),
    sa.Column("session_token", sa.Text, nullable=True),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="Active"),
    sa.Column("created_at", sa.Float, nullable=False),
)

MIGRATIONS = (Migration("credentials", 1, create_tables(access_keys), "access keys"),)

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class KeyRecord:
    access_key_id: str
    secret_access_key: str
    account_id: str
    principal_arn: str
    user_name: str | None
    session_token: str | None
    expires_at: float | None
    status: str
    created_at: float

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at

    @property
    def active(self) -> bool:
        return self.status == "Active" and not self.expired


def _new_key_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def _new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


class CredentialStore:
    """Reads and writes access keys; the gateway's SigV4 step calls ``lookup`` per request."""

    def __init__(self, store: Store, account_id: str) -> None:
        self.store = store
        self.account_id = account_id
        self.root_arn = f"arn:aws:iam::{account_id}:root"
        self._cache: dict[str, KeyRecord | None] = {}
        self._lock = threading.Lock()

    def lookup(self, access_key_id: str) -> KeyRecord | None:
        try:
            return self._cache[access_key_id]
        except KeyError:
            pass
        with self.store.read() as conn:
            row = conn.execute(sa.select(access_keys).where(access_keys.c.access_key_id == access_key_id)).first()
        rec = KeyRecord(**row._mapping) if row is not None else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[access_key_id] = rec
        return rec

    def create_key(
        self,
        principal_arn: str,
        *,
        user_name: str | None = None,
        temporary_seconds: int | None = None,
        conn: sa.Connection | None = None,
    ) -> KeyRecord:
        """A new key pair; temporary (``ASIA…`` with a session token) when ``temporary_seconds``."""
        now = time.time()
        temporary = temporary_seconds is not None
        rec = KeyRecord(
            access_key_id=_new_key_id("ASIA" if temporary else "AKIA"),
            secret_access_key=_new_secret(),
            account_id=self.account_id,
            principal_arn=principal_arn,
            user_name=user_name,
            session_token=secrets.token_urlsafe(96) if temporary else None,
            expires_at=now + temporary_seconds if temporary_seconds is not None else None,
            status="Active",
            created_at=now,
        )
        stmt = sa.insert(access_keys).values(**rec.__dict__)
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.store.begin() as c:
                c.execute(stmt)
        self._forget(rec.access_key_id)
        return rec

    def delete_key(self, access_key_id: str, conn: sa.Connection | None = None) -> bool:
        stmt = sa.delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        if conn is not None:
            n = conn.execute(stmt).rowcount
        else:
            with self.store.begin() as c:
                n = c.execute(stmt).rowcount
        self._forget(access_key_id)
        return bool(n)

    def set_status(self, access_key_id: str, status: str, conn: sa.Connection | None = None) -> bool:
        stmt = sa.update(access_keys).where(access_keys.c.access_key_id == access_key_id).values(status=status)
        if conn is not None:
            n = conn.execute(stmt).rowcount
        else:
            with self.store.begin() as c:
                n = c.execute(stmt).rowcount
        self._forget(access_key_id)
        return bool(n)

    def keys_of_user(self, user_name: str) -> list[KeyRecord]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(access_keys)
                .where(access_keys.c.user_name == user_name, access_keys.c.session_token.is_(None))
                .order_by(access_keys.c.created_at)
            ).all()
        return [KeyRecord(**r._mapping) for r in rows]

    def _forget(self, access_key_id: str) -> None:
        with self._lock:
            self._cache.pop(access_key_id, None)

    def ensure_admin(self, credentials_file: Path) -> KeyRecord:
        """The root key pair, created on first start, and the credentials file that holds it."""
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(access_keys)
                .where(access_keys.c.principal_arn == self.root_arn, access_keys.c.session_token.is_(None))
                .order_by(access_keys.c.created_at)
            ).first()
        rec = KeyRecord(**row._mapping) if row is not None else self.create_key(self.root_arn)
        if not _file_holds(credentials_file, rec):
            write_credentials_file(credentials_file, rec)
        return rec


def _file_holds(path: Path, rec: KeyRecord) -> bool:
    try:
        cp = configparser.ConfigParser()
        cp.read(path)
        return cp.get("default", "aws_access_key_id", fallback=None) == rec.access_key_id
    except configparser.Error:
        return False


def write_credentials_file(path: Path, rec: KeyRecord) -> None:
    cp = configparser.ConfigParser()
    cp["default"] = {
        "aws_access_key_id": rec.access_key_id,
        "aws_secret_access_key": rec.secret_access_key,
    }
    buf = io.StringIO()
    cp.write(buf)
    write_file_atomic(path, buf.getvalue().encode(), mode=0o600)

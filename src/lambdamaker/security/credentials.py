"""Access keys: long-term (``AKIA…``) and temporary (``ASIA…`` + session token), kept in the store.

Invariants:
- Every key the gateway accepts is a row in ``access_keys``; the in-memory cache is only a cache
  (filled on lookup, dropped on every change made through this class). A change made inside the
  caller's transaction drops the entry again after that transaction commits, and a lookup that
  raced with any change does not fill the cache, so a deleted or deactivated key never lingers
  in it.
- Across the processes of one server (primary and data-plane workers) a change also bumps the
  shared ``CREDENTIALS`` epoch (``store.epochs``) after it commits; a lookup that sees the epoch
  moved drops its whole cache first, so no process keeps a key another one changed.
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
from lambdamaker.store.epochs import CREDENTIALS, Epochs, EpochWatch
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

    def __init__(self, store: Store, account_id: str, epochs: Epochs | None = None) -> None:
        self.store = store
        self.epochs = epochs
        self._watch = EpochWatch(epochs, CREDENTIALS) if epochs is not None else None
        self.account_id = account_id
        self.root_arn = f"arn:aws:iam::{account_id}:root"
        self._cache: dict[str, KeyRecord | None] = {}
        self._generation = 0  # bumped by every change; see lookup()
        self._lock = threading.Lock()

    def lookup(self, access_key_id: str) -> KeyRecord | None:
        with self._lock:
            if self._watch is not None and self._watch.moved():  # a key changed anywhere
                self._cache.clear()
                self._generation += 1
            if access_key_id in self._cache:
                return self._cache[access_key_id]
            generation = self._generation
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(access_keys).where(access_keys.c.access_key_id == access_key_id)
            ).first()
        rec = KeyRecord(**row._mapping) if row is not None else None
        with self._lock:
            # A change since we read may have forgotten this key already; caching what we read
            # would resurrect the old state.
            if generation == self._generation:
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
        self._execute(sa.insert(access_keys).values(**rec.__dict__), rec.access_key_id, conn)
        return rec

    def delete_key(self, access_key_id: str, conn: sa.Connection | None = None) -> bool:
        stmt = sa.delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        return bool(self._execute(stmt, access_key_id, conn))

    def set_status(
        self, access_key_id: str, status: str, conn: sa.Connection | None = None
    ) -> bool:
        stmt = (
            sa.update(access_keys)
            .where(access_keys.c.access_key_id == access_key_id)
            .values(status=status)
        )
        return bool(self._execute(stmt, access_key_id, conn))

    def _execute(self, stmt: sa.Executable, access_key_id: str, conn: sa.Connection | None) -> int:
        """Run a change of one key, in ``conn``'s transaction (from ``Store.begin()``) or its own."""
        if conn is None:
            with self.store.begin() as c:
                n = c.execute(stmt).rowcount
        else:
            n = conn.execute(stmt).rowcount
            # Until the caller commits, readers still see the old row and may cache it.
            self.store.after_commit(conn, lambda: self._forget(access_key_id))
        self._forget(access_key_id)
        return int(n)

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
            self._generation += 1
        if self.epochs is not None:
            self.epochs.add(CREDENTIALS)

    def ensure_admin(self, credentials_file: Path) -> KeyRecord:
        """The root key pair, created on first start, and the credentials file that holds it."""
        # Look up and create in one write transaction: two platforms starting on one database
        # must end up with one admin key, not two.
        with self.store.begin() as conn:
            row = conn.execute(
                sa.select(access_keys)
                .where(
                    access_keys.c.principal_arn == self.root_arn,
                    access_keys.c.session_token.is_(None),
                    access_keys.c.status == "Active",
                )
                .order_by(access_keys.c.created_at)
            ).first()
            if row is not None:
                rec = KeyRecord(**row._mapping)
            else:
                rec = self.create_key(self.root_arn, conn=conn)
        if not _file_holds(credentials_file, rec):
            write_credentials_file(credentials_file, rec)
        return rec


def _file_holds(path: Path, rec: KeyRecord) -> bool:
    """Whether ``path`` is private and its ``[default]`` profile is exactly ``rec``."""
    try:
        if path.stat().st_mode & 0o077:
            return False
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(path, encoding="utf-8")
        return cp.get("default", "aws_access_key_id", fallback=None) == rec.access_key_id and (
            cp.get("default", "aws_secret_access_key", fallback=None) == rec.secret_access_key
        )
    except (OSError, UnicodeDecodeError, configparser.Error):
        return False


def write_credentials_file(path: Path, rec: KeyRecord) -> None:
    cp = configparser.ConfigParser(interpolation=None)
    cp["default"] = {
        "aws_access_key_id": rec.access_key_id,
        "aws_secret_access_key": rec.secret_access_key,
    }
    buf = io.StringIO()
    cp.write(buf)
    write_file_atomic(path, buf.getvalue().encode(), mode=0o600)

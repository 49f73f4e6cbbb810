"""CredentialStore: access keys in the store, the lookup cache, the admin key and its file."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.configloader import raw_config_parse

from lambdamaker.security.credentials import (
    MIGRATIONS,
    CredentialStore,
    KeyRecord,
    write_credentials_file,
)
from lambdamaker.store import Store

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


@pytest.fixture()
def creds(store: Store) -> CredentialStore:
    store.migrate(MIGRATIONS)
    return CredentialStore(store, ACCOUNT)


def fresh(store_url: str) -> Iterator[CredentialStore]:
    """A second platform start on the same database: new Store, empty cache."""
    store = Store(store_url)
    store.migrate(MIGRATIONS)
    try:
        yield CredentialStore(store, ACCOUNT)
    finally:
        store.close()


def test_created_key_is_found_by_lookup(creds: CredentialStore) -> None:
    rec = creds.create_key(USER, user_name="alice")
    assert rec.access_key_id.startswith("AKIA") and len(rec.access_key_id) == 20
    assert rec.access_key_id[4:].isalnum() and rec.access_key_id.isupper()
    assert len(rec.secret_access_key) == 40
    assert rec.session_token is None and rec.expires_at is None
    assert creds.lookup(rec.access_key_id) == rec
    assert rec.active


def test_key_created_after_a_failed_lookup_of_its_id_is_found(creds: CredentialStore) -> None:
    assert creds.lookup("AKIAUNKNOWN000000000") is None  # cached as unknown
    rec = creds.create_key(USER)
    assert creds.lookup(rec.access_key_id) == rec


def test_deleted_key_is_no_longer_found_even_after_a_cached_lookup(creds: CredentialStore) -> None:
    rec = creds.create_key(USER)
    assert creds.lookup(rec.access_key_id) is not None
    assert creds.delete_key(rec.access_key_id) is True
    assert creds.lookup(rec.access_key_id) is None
    assert creds.delete_key(rec.access_key_id) is False


def test_set_status_deactivates_and_reactivates_a_key(creds: CredentialStore) -> None:
    rec = creds.create_key(USER)
    assert creds.lookup(rec.access_key_id) is not None
    assert creds.set_status(rec.access_key_id, "Inactive") is True
    found = creds.lookup(rec.access_key_id)
    assert found is not None and found.status == "Inactive" and not found.active
    assert creds.set_status(rec.access_key_id, "Active") is True
    found = creds.lookup(rec.access_key_id)
    assert found is not None and found.active
    assert creds.set_status("AKIAUNKNOWN000000000", "Inactive") is False


def test_delete_in_the_callers_transaction_takes_effect_at_its_commit(
    store: Store, creds: CredentialStore
) -> None:
    rec = creds.create_key(USER)
    with store.begin() as conn:
        assert creds.delete_key(rec.access_key_id, conn=conn) is True
        # Not committed yet: a concurrent request still sees (and may cache) the key.
        assert creds.lookup(rec.access_key_id) == rec
    assert creds.lookup(rec.access_key_id) is None


def test_rolled_back_delete_keeps_the_key(store: Store, creds: CredentialStore) -> None:
    rec = creds.create_key(USER)
    with pytest.raises(RuntimeError), store.begin() as conn:
        creds.delete_key(rec.access_key_id, conn=conn)
        raise RuntimeError("abort")
    assert creds.lookup(rec.access_key_id) == rec


def test_lookup_racing_with_a_delete_does_not_cache_the_deleted_key(
    store: Store, creds: CredentialStore
) -> None:
    rec = creds.create_key(USER)
    fired: list[bool] = []

    def delete_meanwhile(conn: Any, *args: Any) -> None:
        # Right after lookup's SELECT ran (and saw the key), another request deletes it.
        if not fired and "access_keys" in str(args[1]) and "SELECT" in str(args[1]):
            fired.append(True)
            creds.delete_key(rec.access_key_id)

    sa.event.listen(store.engine, "after_cursor_execute", delete_meanwhile)
    try:
        assert creds.lookup(rec.access_key_id) == rec  # the snapshot it read
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", delete_meanwhile)
    assert fired
    assert creds.lookup(rec.access_key_id) is None


def test_temporary_key_has_a_session_token_and_an_expiry(creds: CredentialStore) -> None:
    before = time.time()
    rec = creds.create_key(USER, temporary_seconds=3600)
    assert rec.access_key_id.startswith("ASIA") and len(rec.access_key_id) == 20
    assert rec.session_token
    assert rec.expires_at is not None and before + 3600 <= rec.expires_at <= time.time() + 3600
    assert not rec.expired and rec.active
    found = creds.lookup(rec.access_key_id)
    assert found is not None and found.session_token == rec.session_token
    assert found.expires_at == pytest.approx(rec.expires_at)


def test_temporary_key_past_its_expiry_is_not_active(creds: CredentialStore) -> None:
    rec = creds.create_key(USER, temporary_seconds=0)
    found = creds.lookup(rec.access_key_id)
    assert found is not None
    assert found.expired and not found.active


def test_keys_of_user_lists_long_term_keys_in_creation_order(creds: CredentialStore) -> None:
    first = creds.create_key(USER, user_name="alice")
    second = creds.create_key(USER, user_name="alice")
    creds.create_key(USER, user_name="alice", temporary_seconds=900)
    creds.create_key(f"arn:aws:iam::{ACCOUNT}:user/bob", user_name="bob")
    ids = [k.access_key_id for k in creds.keys_of_user("alice")]
    assert sorted(ids) == sorted([first.access_key_id, second.access_key_id])
    assert ids == [k.access_key_id for k in sorted([first, second], key=lambda k: k.created_at)]


def test_ensure_admin_writes_a_private_credentials_file_with_a_default_profile(
    creds: CredentialStore, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "credentials"
    rec = creds.ensure_admin(path)
    assert rec.principal_arn == ROOT and rec.access_key_id.startswith("AKIA")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profiles = raw_config_parse(str(path))  # botocore's own reader of the shared-credentials file
    assert profiles["default"] == {
        "aws_access_key_id": rec.access_key_id,
        "aws_secret_access_key": rec.secret_access_key,
    }
    assert creds.lookup(rec.access_key_id) == rec


def test_second_start_keeps_the_same_admin_key_and_file(
    store_url: str, creds: CredentialStore, tmp_path: Path
) -> None:
    path = tmp_path / "credentials"
    first = creds.ensure_admin(path)
    inode, content = path.stat().st_ino, path.read_bytes()
    for again in fresh(store_url):
        assert again.ensure_admin(path) == first
    assert path.stat().st_ino == inode and path.read_bytes() == content


def test_credentials_file_that_is_readable_by_others_or_stale_is_rewritten(
    creds: CredentialStore, tmp_path: Path
) -> None:
    path = tmp_path / "credentials"
    rec = creds.ensure_admin(path)
    path.chmod(0o644)
    creds.ensure_admin(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    other = creds.create_key(USER)
    write_credentials_file(path, other)
    creds.ensure_admin(path)
    assert raw_config_parse(str(path))["default"]["aws_access_key_id"] == rec.access_key_id

    path.write_bytes(b"\xff\xfe not an ini file")
    path.chmod(0o600)
    creds.ensure_admin(path)
    assert raw_config_parse(str(path))["default"]["aws_secret_access_key"] == rec.secret_access_key


def test_deactivated_admin_key_is_replaced_by_a_new_one(
    creds: CredentialStore, tmp_path: Path
) -> None:
    path = tmp_path / "credentials"
    old = creds.ensure_admin(path)
    creds.set_status(old.access_key_id, "Inactive")
    new = creds.ensure_admin(path)
    assert new.access_key_id != old.access_key_id and new.active
    assert raw_config_parse(str(path))["default"]["aws_access_key_id"] == new.access_key_id


def test_platforms_starting_at_once_share_one_admin_key(store_url: str, tmp_path: Path) -> None:
    starters = 3
    stores = [Store(store_url) for _ in range(starters)]
    stores[0].migrate(MIGRATIONS)
    results: list[KeyRecord] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(starters)

    def start(i: int) -> None:
        barrier.wait()
        try:
            results.append(CredentialStore(stores[i], ACCOUNT).ensure_admin(tmp_path / f"c{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len({r.access_key_id for r in results}) == 1
        with stores[0].read() as conn:
            roots = conn.exec_driver_sql(
                f"SELECT count(*) FROM access_keys WHERE principal_arn = '{ROOT}'"
            ).scalar()
        assert roots == 1
    finally:
        for s in stores:
            s.close()

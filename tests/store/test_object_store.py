"""ObjectStore: atomic blobs, spooled bodies renamed into place, concat, crash and sweep."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdamaker.gateway.protocol.body import Body
from lambdamaker.store import ObjectStore
from lambdamaker.store.objects import write_file_atomic


@pytest.fixture()
def objects(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects", tmp_path / "tmp")


def spooled_body(objects: ObjectStore, data: bytes) -> Body:
    """A body as the gateway leaves it: bytes in a spool file under the data dir."""
    f, path = objects.new_temp()
    with f:
        f.write(data)
    return Body(path=path, size=len(data), md5=hashlib.md5(data).hexdigest())


def read_blob(objects: ObjectStore, blob_id: str) -> bytes:
    with objects.open(blob_id) as f:
        return f.read()


def test_put_bytes_round_trips_under_a_two_level_path(objects: ObjectStore) -> None:
    blob_id = objects.put_bytes(b"hello")
    assert read_blob(objects, blob_id) == b"hello"
    assert objects.size(blob_id) == 5
    assert objects.path(blob_id) == objects.root / blob_id[:2] / blob_id
    assert list(objects.blob_ids()) == [blob_id]


def test_put_body_stores_an_in_memory_body(objects: ObjectStore) -> None:
    blob_id = objects.put_body(Body.from_bytes(b"in memory"))
    assert read_blob(objects, blob_id) == b"in memory"
    assert list(objects.tmp_dir.iterdir()) == []


def test_put_body_renames_a_spooled_body_instead_of_copying(objects: ObjectStore) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    body = spooled_body(objects, data)
    assert body.path is not None
    inode = body.path.stat().st_ino
    blob_id = objects.put_body(body)
    assert objects.path(blob_id).stat().st_ino == inode
    assert read_blob(objects, blob_id) == data
    assert list(objects.tmp_dir.iterdir()) == []
    assert body.path is None  # the body gave the file away; discard() must not touch the blob
    body.discard()
    assert read_blob(objects, blob_id) == data


def test_put_body_copies_a_body_spooled_on_another_filesystem(objects: ObjectStore) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == objects.tmp_dir.stat().st_dev:
        pytest.skip("needs /dev/shm on a filesystem other than the temp dir's")
    data = b"x" * 100_000
    path = shm / f"lambdamaker-test-{os.getpid()}"
    path.write_bytes(data)
    try:
        blob_id = objects.put_body(Body(path=path, size=len(data)))
        assert read_blob(objects, blob_id) == data
        assert not path.exists()
        assert list(objects.tmp_dir.iterdir()) == []
    finally:
        path.unlink(missing_ok=True)


def test_concat_returns_the_size_and_md5_of_the_joined_bytes(objects: ObjectStore) -> None:
    # Parts straddle the 1 MiB read chunk so the streaming md5 sees partial chunks too.
    parts = [os.urandom(n) for n in ((1 << 20) + 3, 5, 0, 2 * (1 << 20) - 1)]
    ids = [objects.put_bytes(p) for p in parts]
    joined = b"".join(parts)
    blob_id, size, md5 = objects.concat(ids)
    assert size == len(joined)
    assert md5 == hashlib.md5(joined).hexdigest()
    assert read_blob(objects, blob_id) == joined
    assert all(read_blob(objects, i) == p for i, p in zip(ids, parts, strict=True))


def test_concat_of_a_missing_part_leaves_nothing_behind(objects: ObjectStore) -> None:
    first = objects.put_bytes(b"a")
    with pytest.raises(FileNotFoundError):
        objects.concat([first, "0" * 32])
    assert list(objects.blob_ids()) == [first]
    assert list(objects.tmp_dir.iterdir()) == []


def test_failed_streaming_write_leaves_no_spool_file_and_no_blob(objects: ObjectStore) -> None:
    def chunks():
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        objects.put_chunks(chunks())
    assert list(objects.blob_ids()) == []
    assert list(objects.tmp_dir.iterdir()) == []


def test_sweep_removes_unreferenced_blobs_only(objects: ObjectStore) -> None:
    keep = objects.put_bytes(b"keep")
    orphan = objects.put_bytes(b"orphan")
    assert objects.sweep({keep}) == 1
    assert list(objects.blob_ids()) == [keep]
    assert not objects.path(orphan).exists()
    assert read_blob(objects, keep) == b"keep"


def test_delete_is_idempotent(objects: ObjectStore) -> None:
    blob_id = objects.put_bytes(b"x")
    objects.delete(blob_id)
    objects.delete(blob_id)
    assert list(objects.blob_ids()) == []


_CRASHING_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lambdamaker.store import ObjectStore

    objects = ObjectStore(Path(sys.argv[1]), Path(sys.argv[2]))

    def chunks():
        for i in range(8):
            yield b"x" * (1 << 20)
        print("half written", flush=True)
        sys.stdin.read()  # blocks until the parent kills us
        yield b"never"

    objects.put_chunks(chunks())
    print("committed", flush=True)
    """
)


def test_kill_9_mid_write_leaves_no_visible_blob(tmp_path: Path, child_env: dict[str, str]) -> None:
    root, tmp = tmp_path / "objects", tmp_path / "tmp"
    with subprocess.Popen(
        [sys.executable, "-c", _CRASHING_WRITER, str(root), str(tmp)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stderr = proc.stderr.read()
    assert line == "half written\n", stderr
    assert proc.returncode == -signal.SIGKILL

    objects = ObjectStore(root, tmp)
    assert list(objects.blob_ids()) == []
    spooled = list(tmp.iterdir())
    assert len(spooled) == 1 and spooled[0].stat().st_size == 8 << 20
    assert objects.sweep(set()) == 0
    # The half-written spool file is the platform's to remove at start-up
    # (tests/s3/test_s3_recovery.py checks that through a restart).


def test_write_file_atomic_replaces_the_file_with_the_given_mode(tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "credentials"
    write_file_atomic(dest, b"old", mode=0o644)
    write_file_atomic(dest, b"new", mode=0o600)
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert [p.name for p in dest.parent.iterdir()] == ["credentials"]

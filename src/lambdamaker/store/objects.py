"""Object bytes on local disk, written atomically.

Blobs are opaque ids (``uuid4().hex``) mapped to ``<root>/<id[:2]>/<id>``. A blob becomes visible
only by ``rename`` after its bytes are fsynced, and the directory is fsynced after the rename, so
after ``kill -9`` a blob either exists whole or not at all. Metadata rows point at blob ids; a
blob that no row references (a crash between the rename and the commit) is garbage that the owner
removes with ``sweep``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from lambdamaker.gateway.protocol.body import Body

_CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(dest: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``dest`` so that readers see the old file or the new one, never half."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


class ObjectStore:
    """Durable blobs under ``root``; ``tmp_dir`` must be on the same filesystem."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = Path(tmp_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id

    def new_temp(self) -> tuple[BinaryIO, Path]:
        """An open temp file in the spool area, for callers that stream bytes in themselves."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="spool-")
        return os.fdopen(fd, "w+b"), Path(name)

    def _commit(self, tmp: Path) -> str:
        blob_id = uuid.uuid4().hex
        dest = self.path(blob_id)
        if not dest.parent.is_dir():
            dest.parent.mkdir(exist_ok=True)
            # The new subdirectory's own entry must be durable too, or the blob inside it is not.
            fsync_dir(self.root)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        return blob_id

    def put_body(self, body: Body) -> str:
        """Make ``body`` durable and return its blob id. A spooled body is renamed, not copied."""
        path = body.claim_file()
        if path is None:
            return self.put_bytes(body.read())
        renamed = False
        try:
            if os.stat(path).st_dev != os.stat(self.tmp_dir).st_dev:
                # Spooled on another filesystem: a rename would fail (EXDEV), so copy instead.
                with open(path, "rb") as src:
                    return self.put_chunks(iter(lambda: src.read(_CHUNK), b""))
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            blob_id = self._commit(path)
            renamed = True
            return blob_id
        finally:
            if not renamed:
                # The body let go of the file: it is ours to remove, not sweep()'s.
                path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> str:
        return self.put_chunks([data])

    def put_chunks(self, chunks: Iterable[bytes]) -> str:
        f, tmp = self.new_temp()
        try:
            with f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            return self._commit(tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def concat(self, blob_ids: Iterable[str]) -> tuple[str, int, str]:
        """A new blob made of existing ones in order: (blob id, size, md5 hex). For multipart."""
        md5 = hashlib.md5()
        size = 0

        def chunks() -> Iterator[bytes]:
            nonlocal size
            for bid in blob_ids:
                with open(self.path(bid), "rb") as src:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):
                        md5.update(chunk)
                        size += len(chunk)
                        yield chunk

        blob_id = self.put_chunks(chunks())
        return blob_id, size, md5.hexdigest()

    def copy(self, blob_id: str) -> str:
        """A new blob with the bytes of ``blob_id``. Blobs are never modified in place, so a hard
        link is a full copy at no I/O cost; filesystems without links get a streamed copy."""
        src = self.path(blob_id)
        new_id = uuid.uuid4().hex
        dest = self.path(new_id)
        if not dest.parent.is_dir():
            dest.parent.mkdir(exist_ok=True)
            fsync_dir(self.root)
        try:
            os.link(src, dest)
        except FileNotFoundError:
            raise
        except OSError:
            with open(src, "rb") as f:
                return self.put_chunks(iter(lambda: f.read(_CHUNK), b""))
        fsync_dir(dest.parent)
        return new_id

    def open(self, blob_id: str) -> BinaryIO:
        return open(self.path(blob_id), "rb")

    def size(self, blob_id: str) -> int:
        return self.path(blob_id).stat().st_size

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def blob_ids(self) -> Iterator[str]:
        for sub in self.root.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    yield f.name

    def sweep(self, referenced: set[str]) -> int:
        """Delete blobs no metadata references. Run at start-up only, by the store's one owner."""
        removed = 0
        for blob_id in list(self.blob_ids()):
            if blob_id not in referenced:
                self.delete(blob_id)
                removed += 1
        return removed

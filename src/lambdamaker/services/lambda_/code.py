"""Deployment packages: validated, kept, and unpacked once per content.

Invariants:
- A package is checked completely before anything refers to it: a zip that does not open or
  decompress, has an entry with an absolute path or a ``..`` component, or unpacks to more
  than 250 MB is refused with ``InvalidParameterValueException`` and leaves nothing behind.
  The size is checked twice: from the central directory before unpacking, and by counting the
  bytes actually written (a zip may lie about its sizes).
- The zip is kept as a blob in ``platform.blobs("lambda")`` (GetFunction's code location, and
  the source to unpack again if the unpacked copy is lost). Blobs follow the store's order:
  bytes durable first, then the row that names them, then garbage removal after the commit that
  dropped the last reference; ``sweep`` at start-up removes what a crash left unreferenced.
- Unpacked trees are content-addressed: ``<data>/functions/code/<sha256 hex>`` for functions,
  ``.../layers/<sha256 hex>`` for layers. A tree is unpacked into a temporary directory and
  renamed into place, so a tree that exists is complete; identical packages share one tree.
  Trees are immutable once in place, so an environment never sees code change under it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lambdamaker.errors import InvalidParameterValueError
from lambdamaker.services.lambda_ import limits
from lambdamaker.services.lambda_.errors import unzip_failed
from lambdamaker.store import ObjectStore

log = logging.getLogger("lambdamaker.lambda")

_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class CodeArtifact:
    """One stored deployment package."""

    sha256: str
    """Base64 SHA-256 of the zip: Lambda's ``CodeSha256``."""
    hex: str
    """Hex SHA-256: the name of the unpacked tree."""
    size: int
    """Bytes of the zip: Lambda's ``CodeSize``."""
    unzipped: int
    blob_id: str


def too_large(actual: int | None = None) -> InvalidParameterValueError:
    message = f"Unzipped size must be smaller than {limits.UNZIPPED_CODE_LIMIT} bytes"
    return InvalidParameterValueError(message)


def member_parts(name: str) -> list[str]:
    """Path components of a zip entry; refuses absolute paths and ``..``."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise unzip_failed(f"The archive contains an entry with an absolute path: {name!r}.")
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise unzip_failed(f"The archive contains an entry that escapes its root: {name!r}.")
    return parts


def declared_size(zf: zipfile.ZipFile) -> int:
    """Unzipped size from the central directory, after checking every entry's name."""
    total = 0
    for info in zf.infolist():
        member_parts(info.filename)
        total += info.file_size
    return total


def _extract(zf: zipfile.ZipFile, dest: Path, budget: int) -> int:
    written = 0
    for info in zf.infolist():
        parts = member_parts(info.filename)
        if not parts:
            continue
        target = dest.joinpath(*parts)
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(mode):
            link = zf.read(info).decode("utf-8")
            resolved = os.path.normpath(os.path.join(os.path.dirname("/".join(parts)), link))
            if os.path.isabs(link) or resolved.startswith(".."):
                raise unzip_failed(
                    f"The archive contains a link that escapes its root: {info.filename!r}."
                )
            os.symlink(link, target)
            continue
        with zf.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise too_large()
                out.write(chunk)
        # Readable (and, if executable at all, executable) by everyone: environments run as
        # their own unprivileged uid.
        permissions = mode & 0o777
        if not permissions:
            permissions = 0o644
        permissions |= 0o444 | (0o111 if permissions & 0o111 else 0)
        os.chmod(target, permissions)
    return written


def _sha256_file(f: BinaryIO) -> tuple[str, str, int]:
    digest = hashlib.sha256()
    size = 0
    f.seek(0)
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    f.seek(0)
    return base64.b64encode(digest.digest()).decode(), digest.hexdigest(), size


class CodeStore:
    """Zip blobs plus their unpacked trees under ``root`` (``<data>/functions``)."""

    def __init__(self, blobs: ObjectStore, root: Path) -> None:
        self.blobs = blobs
        self.root = root
        for kind in ("code", "layers"):
            (root / kind).mkdir(parents=True, exist_ok=True)

    def tree(self, kind: str, hex_digest: str) -> Path:
        return self.root / kind / hex_digest

    def ingest(self, source: bytes | Path, kind: str) -> CodeArtifact:
        """Validate and unpack a zip (bytes, or a file we only read), then keep it as a blob."""
        if isinstance(source, bytes):
            with io.BytesIO(source) as f:
                sha, hex_digest, size = _sha256_file(f)
                unzipped = self._unpack(f, kind, hex_digest)
            blob_id = self.blobs.put_bytes(source)
        else:
            with open(source, "rb") as f:
                sha, hex_digest, size = _sha256_file(f)
                unzipped = self._unpack(f, kind, hex_digest)
                f.seek(0)
                blob_id = self.blobs.put_chunks(iter(lambda: f.read(_CHUNK), b""))
        return CodeArtifact(sha, hex_digest, size, unzipped, blob_id)

    def _unpack(self, f: BinaryIO, kind: str, hex_digest: str) -> int:
        try:
            with zipfile.ZipFile(f) as zf:
                declared = declared_size(zf)
                if declared > limits.UNZIPPED_CODE_LIMIT:
                    raise too_large()
                final = self.tree(kind, hex_digest)
                if final.is_dir():
                    return declared
                tmp = self.root / kind / f".tmp-{uuid.uuid4().hex}"
                tmp.mkdir()
                try:
                    _extract(zf, tmp, limits.UNZIPPED_CODE_LIMIT)
                    for directory, _, _ in os.walk(tmp):
                        os.chmod(directory, 0o755)  # traversable by environments' own uids
                    try:
                        os.rename(tmp, final)
                    except OSError:
                        if not final.is_dir():  # not a concurrent twin: a real failure
                            raise
                finally:
                    if tmp.exists():
                        shutil.rmtree(tmp, ignore_errors=True)
                return declared
        except _ZIP_ERRORS as exc:
            raise unzip_failed() from exc
        except UnicodeDecodeError as exc:
            raise unzip_failed() from exc

    def ensure_tree(self, kind: str, hex_digest: str, blob_id: str) -> Path:
        """The unpacked tree, unpacked again from the blob if it went missing."""
        final = self.tree(kind, hex_digest)
        if not final.is_dir():
            with open(self.blobs.path(blob_id), "rb") as f:
                self._unpack(f, kind, hex_digest)
        return final

    def discard(self, blob_ids: Iterable[str]) -> None:
        for blob_id in blob_ids:
            try:
                self.blobs.delete(blob_id)
            except OSError:  # pragma: no cover - the start-up sweep retries
                log.warning("could not delete code blob %s", blob_id, exc_info=True)

    def sweep(self, blobs: set[str], trees: dict[str, set[str]]) -> int:
        """Remove blobs and trees nothing references (start-up only: nothing runs yet)."""
        removed = self.blobs.sweep(blobs)
        for kind in ("code", "layers"):
            keep = trees.get(kind, set())
            for entry in (self.root / kind).iterdir():
                if entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        return removed

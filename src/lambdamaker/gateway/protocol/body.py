"""Payload bodies shared by the protocol layer and the providers.

Request side: an operation whose input payload is a streaming blob (S3 PutObject, UploadPart)
receives a ``Body`` in its params instead of ``bytes``. The gateway spools the bytes to a file
under the data dir while it reads them (computing MD5 and the size as it goes), so a 5 GB upload
never sits in memory and a disconnect mid-upload leaves nothing behind. Tests and in-process
callers can pass ``Body.from_bytes``.

Response side: a provider may return a ``FileSlice`` (or any ``StreamPayload``) as the value of a
streaming output payload (S3 GetObject's ``Body``); the server streams it without loading it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


class Body:
    """A request payload: in memory (``data``) or spooled to a file (``path``) it owns."""

    __slots__ = ("_md5", "checksums", "data", "path", "size")

    def __init__(
        self,
        *,
        data: bytes | None = None,
        path: Path | None = None,
        size: int = 0,
        md5: str | None = None,
        checksums: dict[str, str] | None = None,
    ) -> None:
        self.data = data
        self.checksums: dict[str, str] = checksums or {}
        """Digests computed while the body arrived: upper-case algorithm -> base64."""
        self.path = path
        self.size = len(data) if data is not None else size
        self._md5 = md5

    @classmethod
    def from_bytes(cls, data: bytes) -> Body:
        return cls(data=data)

    @property
    def md5_hex(self) -> str:
        if self._md5 is None:
            h = hashlib.md5()
            with self.open() as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self._md5 = h.hexdigest()
        return self._md5

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as f:
            return f.read()

    def claim_file(self) -> Path | None:
        """Hand the spooled file to the caller (who renames it into place); None if in memory."""
        path, self.path = self.path, None
        if path is not None:
            self.data = None
        return path

    def discard(self) -> None:
        """Remove the spooled file if nobody claimed it."""
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.path = None

    def __repr__(self) -> str:
        where = "memory" if self.data is not None else str(self.path)
        return f"Body(size={self.size}, {where})"


class StreamPayload:
    """A response payload produced lazily. ``length`` is known up front (Content-Length)."""

    length: int

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        raise NotImplementedError

    def read(self) -> bytes:
        return b"".join(self.iter_chunks())


@dataclass
class FileSlice(StreamPayload):
    """``length`` bytes of ``path`` from ``offset``: an object or a range of it."""

    path: Path
    offset: int
    length: int

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        remaining = self.length
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            while remaining > 0:
                chunk = f.read(min(chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

"""The GetObject response body: a slice of a blob, opened before the provider returns.

An overwrite or delete unlinks the old blob right after its commit. A reader that looked the
object up just before must still stream the bytes it found, so the blob is opened while the
provider still holds the lookup result: on POSIX an open descriptor keeps the unlinked file
readable. The descriptor is a raw ``os.open`` fd (no buffered file object, hence no
ResourceWarning if the response is dropped unsent); it is closed after the last chunk, by
``close()``, or when the payload is garbage collected.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from lambdamaker.gateway.protocol.body import FileSlice


class BlobSlice(FileSlice):
    """``length`` bytes of an already-open blob from ``offset``. Streams once from the fd; a
    second iteration (unusual) reopens ``path``."""

    def __init__(self, path: Path, offset: int, length: int, fd: int) -> None:
        super().__init__(path, offset, length)
        self._fd: int | None = fd
        self._lock = threading.Lock()

    def _take_fd(self) -> int | None:
        with self._lock:
            fd, self._fd = self._fd, None
        return fd

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        fd = self._take_fd()
        if fd is None:
            yield from super().iter_chunks(chunk_size)
            return
        try:
            position, remaining = self.offset, self.length
            while remaining > 0:
                chunk = os.pread(fd, min(chunk_size, remaining), position)
                if not chunk:
                    break
                position += len(chunk)
                remaining -= len(chunk)
                yield chunk
        finally:
            os.close(fd)

    def close(self) -> None:
        fd = self._take_fd()
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.close(fd)

"""Payload checksums (``x-amz-checksum-*``): one place that knows how to compute each algorithm.

Used by the aws-chunked decoder (trailing checksums), by the gateway while it spools a body
(so a checksum named in a header is computed in the same pass that writes the bytes), and by
S3 (which decides what a mismatch means). Algorithm names are upper case (``CRC32``).
CRC32 and the SHA family come from the standard library, CRC32C from ``google-crc32c``; with
the AWS CRT installed, botocore's CRT classes add CRC64NVME and the XXHASH family.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import Any, Protocol

from botocore import httpchecksum


class Hasher(Protocol):
    def update(self, data: Any, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    __slots__ = ("_crc",)

    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: Any) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


def _crc32c_factory() -> Callable[[], Hasher] | None:
    try:
        import google_crc32c
    except ImportError:
        return None

    class _Crc32c:
        __slots__ = ("_crc",)

        def __init__(self) -> None:
            self._crc = 0

        def update(self, data: Any) -> None:
            self._crc = google_crc32c.extend(self._crc, bytes(data))

        def digest(self) -> bytes:
            return self._crc.to_bytes(4, "big")

    return _Crc32c


def _factories() -> dict[str, Callable[[], Hasher]]:
    found: dict[str, Callable[[], Hasher]] = {
        name.upper(): cls for name, cls in getattr(httpchecksum, "_CRT_CHECKSUM_CLS", {}).items()
    }
    found["CRC32"] = _Crc32
    for name in ("SHA1", "SHA256", "SHA512", "MD5"):
        found[name] = lambda name=name: hashlib.new(name.lower())  # type: ignore[misc]
    if "CRC32C" not in found:
        crc32c = _crc32c_factory()
        if crc32c is not None:
            found["CRC32C"] = crc32c
    return found


_FACTORIES = _factories()


def new_hasher(algorithm: str) -> Hasher | None:
    """A fresh hasher for ``algorithm`` (any case), or None when it cannot be computed here."""
    factory = _FACTORIES.get(algorithm.upper())
    return factory() if factory is not None else None


def supported() -> list[str]:
    """The algorithms this server computes, upper case."""
    return sorted(_FACTORIES)

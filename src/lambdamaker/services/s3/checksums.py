"""Flexible checksums (``x-amz-checksum-*``): validated, verified where we can, stored, returned.

boto3 sends a CRC32 with every PutObject and UploadPart by default, and validates a GetObject
body against the checksum header when one comes back, so a stored checksum must be right.
We verify every algorithm the standard library (or an installed ``google-crc32c``) computes;
CRC64NVME and the XXHASH family are stored as the client sent them.

Multipart objects get a COMPOSITE checksum (the checksum of the concatenated binary part
checksums, with a ``-N`` suffix) unless the upload asked for FULL_OBJECT, in which case the
whole object is checksummed after assembly. Reference:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdamaker.gateway.checksums import new_hasher
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.services.s3 import errors

DIGEST_SIZES = {
    "CRC32": 4,
    "CRC32C": 4,
    "CRC64NVME": 8,
    "SHA1": 20,
    "SHA256": 32,
    "SHA512": 64,
    "MD5": 16,
    "XXHASH64": 8,
    "XXHASH3": 8,
    "XXHASH128": 16,
}
ALGORITHMS = tuple(DIGEST_SIZES)
_CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    value: str
    """Base64 of the digest; a COMPOSITE value ends in ``-<parts>``."""
    type: str = "FULL_OBJECT"

    def members(self) -> dict[str, str]:
        """The output members naming this checksum (``ChecksumCRC32``, ``ChecksumType``)."""
        return {f"Checksum{self.algorithm}": self.value, "ChecksumType": self.type}

    def to_json(self) -> dict[str, str]:
        return {"algorithm": self.algorithm, "value": self.value, "type": self.type}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Checksum | None:
        if not data:
            return None
        return cls(data["algorithm"], data["value"], data.get("type", "FULL_OBJECT"))


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def decode_value(algorithm: str, value: str) -> bytes:
    """The binary digest of a checksum member; ``InvalidRequest`` if it is not one."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != DIGEST_SIZES[algorithm]:
        raise errors.invalid_request(
            f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."
        )
    return raw


def requested(
    params: dict[str, Any], algorithm_member: str = "ChecksumAlgorithm"
) -> tuple[str | None, str | None]:
    """(algorithm, value) a request asks for: a ``Checksum<ALG>`` member and/or the algorithm."""
    given = [(alg, params[f"Checksum{alg}"]) for alg in ALGORITHMS if params.get(f"Checksum{alg}")]
    if len(given) > 1:
        raise errors.invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    named = params.get(algorithm_member)
    algorithm = named.upper() if isinstance(named, str) and named else None
    if algorithm is not None and algorithm not in DIGEST_SIZES:
        raise errors.invalid_request("Checksum algorithm provided is unsupported.")
    if not given:
        return algorithm, None
    alg, value = given[0]
    if algorithm is not None and algorithm != alg:
        raise errors.invalid_request(
            f"Value for x-amz-sdk-checksum-algorithm header is invalid: {named} does not match "
            f"the checksum header x-amz-checksum-{alg.lower()}."
        )
    decode_value(alg, value)
    return alg, value


def _digest_chunks(algorithm: str, chunks: Iterable[bytes]) -> str | None:
    hasher = new_hasher(algorithm)
    if hasher is None:
        return None
    for chunk in chunks:
        hasher.update(chunk)
    return _b64(hasher.digest())


def _body_chunks(body: Body) -> Iterable[bytes]:
    if body.data is not None:
        yield body.data
        return
    with body.open() as f:
        yield from iter(lambda: f.read(_CHUNK), b"")


def file_chunks(path: Path, offset: int = 0, length: int | None = None) -> Iterable[bytes]:
    with open(path, "rb") as f:
        f.seek(offset)
        remaining = length
        while remaining is None or remaining > 0:
            chunk = f.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def for_body(body: Body, algorithm: str | None, value: str | None) -> Checksum | None:
    """The checksum to store for an uploaded body: verified against ``value`` when given."""
    if algorithm is None:
        return None
    # The gateway computes the checksum a request names while it spools the body; only an
    # in-process caller's body needs another pass.
    computed = body.checksums.get(algorithm) or _digest_chunks(algorithm, _body_chunks(body))
    if value is not None:
        if computed is not None and computed != value:
            raise errors.ServiceError(
                f"The {algorithm} you specified did not match the calculated checksum.",
                code="BadDigest",
                status=400,
            )
        return Checksum(algorithm, value)
    return Checksum(algorithm, computed) if computed is not None else None


def for_file(
    path: Path, algorithm: str, offset: int = 0, length: int | None = None
) -> Checksum | None:
    """A FULL_OBJECT checksum computed over (part of) a blob, if we can compute it."""
    computed = _digest_chunks(algorithm, file_chunks(path, offset, length))
    return Checksum(algorithm, computed) if computed is not None else None


def composite(algorithm: str, part_values: list[str]) -> Checksum | None:
    """The COMPOSITE checksum of a multipart object from its parts' checksums."""
    hasher = new_hasher(algorithm)
    if hasher is None:
        return None
    for value in part_values:
        hasher.update(base64.b64decode(value))
    return Checksum(algorithm, f"{_b64(hasher.digest())}-{len(part_values)}", "COMPOSITE")


def default_type(algorithm: str) -> str:
    """A multipart upload's checksum type when the client names none."""
    return "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"


def supports_type(algorithm: str, checksum_type: str) -> bool:
    if checksum_type == "FULL_OBJECT":
        return algorithm in _CRC_ALGORITHMS
    return algorithm != "CRC64NVME"

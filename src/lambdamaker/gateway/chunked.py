"""Decoding S3's ``aws-chunked`` request bodies, verifying chunk signatures and trailers.

An aws-chunked body frames the payload as ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``
chunks, ends with a zero-size chunk, and may carry trailing headers (``x-amz-checksum-crc32:
<base64>``) after it, ended by an empty line. ``x-amz-content-sha256`` says which kind it is:

- ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: each chunk is signed; the signature of chunk *n*
  chains the signature of chunk *n-1*, starting from the request's own (seed) signature, so
  chunks can be neither altered, dropped nor reordered.
- ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: the same, and the trailing headers are signed
  too (``x-amz-trailer-signature``), chained from the final chunk's signature.
- ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: no chunk signatures; integrity comes from the
  trailing checksum (what botocore sends over HTTPS).

See the S3 API reference, "Signature Calculations for the Authorization Header: Transferring
Payload in Multiple Chunks" and "... Including Trailing Headers".

Invariants:

- The decoder is incremental and holds at most one framing line in memory, never a chunk: a
  5 GB upload streams through it.
- Bytes returned by ``feed`` are not authenticated until ``finish`` returns: a chunk's signature
  is checked when its last byte arrives, the trailer checksum at the end. A caller must discard
  everything it wrote if any call raises (the gateway spools to a temp file it then deletes).
- A trailing ``x-amz-checksum-*`` is verified against the decoded payload. Supported: crc32,
  sha1, sha256 and sha512 always; crc32c when ``google-crc32c`` (or ``crc32c``, or the AWS CRT)
  is installed; crc64nvme and the xxhash family when the AWS CRT is installed. Any other declared
  checksum is refused rather than stored unverified.
- A body that ends early is ``IncompleteBody``; bad framing, a missing or wrong signature, a
  trailer that was not declared (or a declared one that is missing) each get S3's error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from lambdamaker.errors import AuthError
from lambdamaker.gateway.checksums import Hasher, new_hasher, supported
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import (
    EMPTY_SHA256_HASH,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    SigV4Request,
    auth_error,
    signing_key,
)

__all__ = ["AwsChunkedDecoder", "checksum_algorithms", "chunk_signature", "trailer_signature"]

_MAX_LINE = 4096
"""A chunk header (``10000;chunk-signature=<64 hex>``) or a trailer line is far shorter."""
_MAX_TRAILER_BYTES = 16 * 1024

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


def checksum_algorithms() -> list[str]:
    """The trailing checksum algorithms this server can verify (lower-case names)."""
    return [name.lower() for name in supported()]


def chunk_signature(
    key: bytes, timestamp: str, scope: str, previous: str, chunk_sha256_hex: str
) -> str:
    """The signature of one chunk, chained from the previous chunk's (or the seed) signature."""
    to_sign = (
        f"AWS4-HMAC-SHA256-PAYLOAD\n{timestamp}\n{scope}\n{previous}\n"
        f"{EMPTY_SHA256_HASH}\n{chunk_sha256_hex}"
    )
    return hmac.digest(key, to_sign.encode(), "sha256").hex()


def trailer_signature(
    key: bytes, timestamp: str, scope: str, previous: str, canonical_trailers: bytes
) -> str:
    """The signature of the trailing headers (``name:value\\n`` each), chained like a chunk's."""
    digest = hashlib.sha256(canonical_trailers).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256-TRAILER\n{timestamp}\n{scope}\n{previous}\n{digest}"
    return hmac.digest(key, to_sign.encode(), "sha256").hex()


class AwsChunkedDecoder:
    """Incremental aws-chunked decoder: ``feed`` raw bytes, get payload bytes; then ``finish``.

    Signatures are checked when ``key`` is given (``for_request`` does it for signed streaming
    requests); without it (``--no-auth``) the framing and trailing checksums are still checked.
    After the body: ``trailers`` holds the trailing headers, ``checksums`` the verified
    ``{algorithm: base64 value}``, ``decoded_size`` the payload's length.
    """

    def __init__(
        self,
        *,
        payload_mode: str,
        trailer_names: list[str] | tuple[str, ...] = (),
        decoded_length: int | None = None,
        key: bytes | None = None,
        seed_signature: str = "",
        timestamp: str = "",
        scope: str = "",
        service_kind: str = "s3",
    ) -> None:
        self.service_kind = service_kind
        self.decoded_length = decoded_length
        self.trailer_names = tuple(name.lower() for name in trailer_names)
        self.signed = key is not None and payload_mode in (
            STREAMING_SIGNED,
            STREAMING_SIGNED_TRAILER,
        )
        self.signed_trailer = self.signed and payload_mode == STREAMING_SIGNED_TRAILER
        self._key = key or b""
        self._previous = seed_signature
        self._timestamp = timestamp
        self._scope = scope
        self._checksums: dict[str, Hasher] = {}
        for name in self.trailer_names:
            if name.startswith("x-amz-checksum-"):
                algorithm = name[len("x-amz-checksum-") :]
                hasher = new_hasher(algorithm)
                if hasher is None:
                    raise auth_error(
                        "unsupported_checksum",
                        service_kind,
                        f"The {algorithm.upper()} checksum algorithm is not supported by this "
                        f"server; use one of {', '.join(a.upper() for a in checksum_algorithms())}.",
                    )
                self._checksums[algorithm] = hasher
        self.trailers: dict[str, str] = {}
        self.checksums: dict[str, str] = {}
        self.decoded_size = 0
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._chunk_sha: Any = None
        self._chunk_expected: str | None = None
        self._canonical_trailers = bytearray()
        self._trailer_sig: str | None = None
        self._trailer_bytes = 0
        self._failed: AuthError | None = None

    @classmethod
    def for_request(
        cls,
        request: HttpRequest,
        sig: SigV4Request | None,
        secret_key: str | None,
        *,
        service_kind: str = "s3",
    ) -> AwsChunkedDecoder:
        """A decoder for ``request``'s body, verifying signatures if ``sig`` and the secret are known."""
        headers = request.headers
        mode = (sig.content_sha256 if sig is not None else None) or headers.get(
            "x-amz-content-sha256", ""
        )
        names = [
            n.strip().lower() for n in headers.get("x-amz-trailer", "").split(",") if n.strip()
        ]
        decoded_length: int | None = None
        raw_length = headers.get("x-amz-decoded-content-length")
        if raw_length is not None:
            if not raw_length.strip().isdigit():
                raise auth_error(
                    "malformed_body",
                    service_kind,
                    f"Invalid x-amz-decoded-content-length: {raw_length!r}",
                )
            decoded_length = int(raw_length)
        key = None
        if sig is not None and secret_key is not None:
            key = signing_key(secret_key, sig.scope_date, sig.region, sig.service)
        return cls(
            payload_mode=mode,
            trailer_names=names,
            decoded_length=decoded_length,
            key=key,
            seed_signature=sig.signature if sig is not None else "",
            timestamp=sig.timestamp if sig is not None else "",
            scope=sig.scope if sig is not None else "",
            service_kind=service_kind,
        )

    @property
    def done(self) -> bool:
        return self._state == _DONE

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Decode the next raw bytes; returns the payload bytes they completed (maybe ``b""``)."""
        if self._failed is not None:
            raise self._failed
        try:
            return self._feed(data)
        except AuthError as exc:
            self._failed = exc
            raise

    def finish(self) -> bytes:
        """End of the raw body: raise unless it was complete and every check passed."""
        if self._failed is not None:
            raise self._failed
        if self._state != _DONE:
            self._failed = self._error(
                "incomplete_body",
                "" if self.service_kind == "s3" else "The aws-chunked body ended early.",
            )
            raise self._failed
        return b""

    def _feed(self, data: bytes) -> bytes:
        out: list[Any] = []
        view = memoryview(data)
        pos = 0
        end = len(data)
        while pos < end:
            if self._state == _DATA:
                take = min(self._remaining, end - pos)
                piece = view[pos : pos + take]
                if self._chunk_sha is not None:
                    self._chunk_sha.update(piece)
                for checksum in self._checksums.values():
                    checksum.update(piece)
                out.append(piece)
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._end_chunk()
                continue
            if self._state == _DONE:
                if data[pos:].strip():
                    raise self._error(
                        "malformed_body", "Unexpected data after the end of the body."
                    )
                break
            newline = data.find(b"\n", pos)
            if newline < 0:
                self._line += view[pos:]
                if len(self._line) > _MAX_LINE:
                    raise self._error("malformed_body", "aws-chunked framing line is too long.")
                break
            if self._line:
                self._line += view[pos : newline + 1]
                line = bytes(self._line)
                self._line.clear()
            else:
                line = data[pos : newline + 1]
            pos = newline + 1
            if len(line) > _MAX_LINE:
                raise self._error("malformed_body", "aws-chunked framing line is too long.")
            self._on_line(line[:-2] if line.endswith(b"\r\n") else line[:-1])
        return b"".join(out)

    def _on_line(self, line: bytes) -> None:
        if self._state == _HEADER:
            self._start_chunk(line)
        elif self._state == _DATA_END:
            if line:
                raise self._error("malformed_body", "A chunk is longer than its declared size.")
            self._state = _HEADER
        else:
            self._on_trailer_line(line)

    def _start_chunk(self, line: bytes) -> None:
        text = line.decode("latin-1")
        size_text, _, extensions = text.partition(";")
        size_text = size_text.strip()
        if (
            not size_text
            or len(size_text) > 16
            or any(c not in "0123456789abcdefABCDEF" for c in size_text)
        ):
            raise self._error("malformed_body", f"Invalid aws-chunked chunk size {size_text!r}.")
        size = int(size_text, 16)
        expected = None
        for extension in extensions.split(";"):
            name, _, value = extension.strip().partition("=")
            if name == "chunk-signature":
                expected = value.strip()
        if self.signed and expected is None:
            raise self._error("signature_mismatch", "A chunk carries no chunk-signature.")
        if self.decoded_length is not None and self.decoded_size + size > self.decoded_length:
            raise self._error(
                "malformed_body",
                "The aws-chunked body is longer than x-amz-decoded-content-length.",
            )
        self._chunk_expected = expected
        self._chunk_sha = hashlib.sha256() if self.signed else None
        self.decoded_size += size
        if size == 0:
            self._end_chunk()
            self._state = _TRAILER
        else:
            self._remaining = size
            self._state = _DATA

    def _end_chunk(self) -> None:
        if self.signed:
            digest = (
                self._chunk_sha.hexdigest() if self._chunk_sha is not None else EMPTY_SHA256_HASH
            )
            actual = chunk_signature(
                self._key, self._timestamp, self._scope, self._previous, digest
            )
            if not _same(actual, self._chunk_expected or ""):
                raise self._error(
                    "signature_mismatch",
                    "The chunk signature we calculated does not match the signature you provided.",
                )
            self._previous = actual
        self._chunk_sha = None
        self._state = _DATA_END

    def _on_trailer_line(self, line: bytes) -> None:
        if not line:
            self._complete()
            return
        self._trailer_bytes += len(line)
        if self._trailer_bytes > _MAX_TRAILER_BYTES:
            raise self._error("malformed_trailer", "The trailing headers are too long.")
        text = line.decode("latin-1")
        name, colon, value = text.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if not colon or not name:
            raise self._error("malformed_trailer")
        if name == "x-amz-trailer-signature":
            self._trailer_sig = value
            return
        if name not in self.trailer_names:
            raise self._error(
                "malformed_trailer",
                f"The trailing header {name} was not declared in x-amz-trailer.",
            )
        self.trailers[name] = value
        self._canonical_trailers += f"{name}:{value}\n".encode("latin-1")

    def _complete(self) -> None:
        if self.signed_trailer:
            actual = trailer_signature(
                self._key,
                self._timestamp,
                self._scope,
                self._previous,
                bytes(self._canonical_trailers),
            )
            if not _same(actual, self._trailer_sig or ""):
                raise self._error(
                    "signature_mismatch",
                    "The trailer signature we calculated does not match the signature you provided.",
                )
        for name in self.trailer_names:
            if name not in self.trailers:
                raise self._error(
                    "malformed_trailer",
                    f"The trailing header {name} declared in x-amz-trailer is missing.",
                )
        for algorithm, checksum in self._checksums.items():
            claimed = self.trailers[f"x-amz-checksum-{algorithm}"]
            try:
                claimed_digest = base64.b64decode(claimed, validate=True)
            except (binascii.Error, ValueError):
                raise self._error(
                    "invalid_checksum",
                    f"Value for x-amz-checksum-{algorithm} trailing header is invalid.",
                ) from None
            if claimed_digest != checksum.digest():
                raise self._error(
                    "bad_digest",
                    f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                )
            self.checksums[algorithm] = claimed
        if self.decoded_length is not None and self.decoded_size != self.decoded_length:
            raise self._error("incomplete_body")
        self._state = _DONE

    def _error(self, kind: str, message: str = "") -> AuthError:
        return auth_error(kind, self.service_kind, message)


def _same(expected: str, provided: str) -> bool:
    return provided.isascii() and hmac.compare_digest(expected, provided)

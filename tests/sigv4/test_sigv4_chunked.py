"""aws-chunked bodies: AWS's published chunk-signing example, botocore's own trailer bodies,
and every way a body can be tampered with or cut short."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha1Checksum, Sha256Checksum
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4_support import (
    ACCESS_KEY,
    SECRET_KEY,
    capture,
    make_client,
    moments,
    parsed,
    signed_chunked_body,
    to_http,
)

from lambdamaker.errors import AuthError
from lambdamaker.gateway.chunked import (
    AwsChunkedDecoder,
    checksum_algorithms,
    chunk_signature,
    trailer_signature,
)
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import signing_key, verify_sigv4

# The worked example of "Signature Calculations for the Authorization Header: Transferring
# Payload in Multiple Chunks (Chunked Upload)" in the S3 API reference.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EXAMPLE_CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE_HEADERS = {
    "host": "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={EXAMPLE_SEED}"
    ),
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "content-length": "66824",
}
EXAMPLE_NOW = datetime(2013, 5, 24, 0, 1, tzinfo=UTC)


def example_request() -> HttpRequest:
    return HttpRequest(
        "PUT", "/examplebucket/chunkObject.txt", "", dict(EXAMPLE_HEADERS), b"", "s3.amazonaws.com"
    )


def example_body(signatures: tuple[str, ...] = EXAMPLE_CHUNK_SIGNATURES) -> bytes:
    chunks = (b"a" * 65536, b"a" * 1024, b"")
    return b"".join(
        f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
        for chunk, signature in zip(chunks, signatures, strict=True)
    )


def decode(decoder: AwsChunkedDecoder, body: bytes, step: int) -> bytes:
    out = [decoder.feed(body[i : i + step]) for i in range(0, len(body), step)]
    out.append(decoder.finish())
    return b"".join(out)


def example_decoder() -> AwsChunkedDecoder:
    request = example_request()
    return AwsChunkedDecoder.for_request(request, parsed(request), EXAMPLE_SECRET)


# -- AWS's published example ------------------------------------------------------------------


def test_published_example_seed_signature_verifies() -> None:
    request = example_request()
    sig = parsed(request)
    assert sig.signature == EXAMPLE_SEED
    verify_sigv4(request, sig, EXAMPLE_SECRET, service_kind="s3", now=EXAMPLE_NOW)


def test_published_example_chunk_signatures_are_reproduced() -> None:
    key = signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3")
    scope = "20130524/us-east-1/s3/aws4_request"
    previous = EXAMPLE_SEED

    for chunk, expected in zip(
        (b"a" * 65536, b"a" * 1024, b""), EXAMPLE_CHUNK_SIGNATURES, strict=True
    ):
        previous = chunk_signature(
            key, "20130524T000000Z", scope, previous, hashlib.sha256(chunk).hexdigest()
        )
        assert previous == expected


def test_published_example_trailer_signature_is_reproduced() -> None:
    # "Signature calculations for trailing headers": the trailer chunk after the final chunk.
    key = signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3")
    signature = trailer_signature(
        key,
        "20130524T000000Z",
        "20130524/us-east-1/s3/aws4_request",
        "e05ab64fe1dfdbf0b5870abbaabdb063c371d4e96f2767e6934d90529c5ae850",
        b"x-amz-checksum-crc32c:wdBDMA==\n",
    )
    assert signature == "41e14ac611e27a8bb3d66c3bad6856f209297767d5dd4fc87d8fa9e422e03faf"


@pytest.mark.parametrize("step", [1, 7, 4096, 65536 + 100, 1 << 20])
def test_published_example_body_decodes_in_any_slicing(step: int) -> None:
    body = example_body()
    assert len(body) == 66824  # the example's Content-Length
    decoder = example_decoder()
    assert decode(decoder, body, step) == b"a" * 66560
    assert decoder.decoded_size == 66560 and decoder.done


def test_published_example_with_a_flipped_byte_does_not_match() -> None:
    body = bytearray(example_body())
    body[200] = ord("b")
    with pytest.raises(AuthError) as info:
        decode(example_decoder(), bytes(body), 4096)
    assert (info.value.code, info.value.status) == ("SignatureDoesNotMatch", 403)


def test_published_example_with_chunks_swapped_does_not_match() -> None:
    a, b, final = EXAMPLE_CHUNK_SIGNATURES
    with pytest.raises(AuthError) as info:
        decode(example_decoder(), example_body((b, a, final)), 4096)
    assert info.value.code == "SignatureDoesNotMatch"


def test_chunk_without_signature_in_a_signed_body_does_not_match() -> None:
    body = example_body().replace(
        b";chunk-signature=" + EXAMPLE_CHUNK_SIGNATURES[1].encode(), b"", 1
    )
    with pytest.raises(AuthError) as info:
        decode(example_decoder(), body, 4096)
    assert info.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("cut", [10, 90, 30000, 65536 + 95, 66824 - 2, 66824 - 1])
def test_truncated_body_is_incomplete(cut: int) -> None:
    decoder = example_decoder()
    decoder.feed(example_body()[:cut])
    with pytest.raises(AuthError) as info:
        decoder.finish()
    assert (info.value.code, info.value.status) == ("IncompleteBody", 400)
    with pytest.raises(AuthError):
        decoder.finish()  # a failed decoder stays failed


def test_body_shorter_than_its_decoded_length_is_incomplete() -> None:
    request = example_request()
    request.headers["x-amz-decoded-content-length"] = "70000"
    decoder = AwsChunkedDecoder.for_request(request, None, None)
    with pytest.raises(AuthError) as info:
        decode(decoder, example_body(), 4096)
    assert info.value.code == "IncompleteBody"


def test_body_longer_than_its_decoded_length_is_refused() -> None:
    request = example_request()
    request.headers["x-amz-decoded-content-length"] = "1000"
    decoder = AwsChunkedDecoder.for_request(request, None, None)
    with pytest.raises(AuthError) as info:
        decoder.feed(example_body())
    assert (info.value.code, info.value.status) == ("InvalidRequest", 400)


def test_chunk_longer_than_declared_is_malformed() -> None:
    body = example_body().replace(b"400;", b"3ff;", 1)
    decoder = AwsChunkedDecoder.for_request(example_request(), None, None)
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert info.value.code == "InvalidRequest"


def test_unverified_decoding_without_credentials_still_checks_framing() -> None:
    decoder = AwsChunkedDecoder.for_request(example_request(), None, None)
    assert decode(decoder, example_body(), 1000) == b"a" * 66560
    with pytest.raises(AuthError):
        AwsChunkedDecoder.for_request(example_request(), None, None).feed(
            b"zz;chunk-signature=1\r\n"
        )


# -- signed chunks with a signed trailer ------------------------------------------------------


class StreamingSigner(S3SigV4Auth):
    """botocore's S3 signer, told the payload is a signed aws-chunked stream (other SDKs'
    default; botocore itself only streams with unsigned trailers)."""

    def payload(self, request: Any) -> str:
        return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"


def _signed_trailer_case(tamper_trailer: bool = False) -> tuple[HttpRequest, bytes, bytes]:
    """A request head signed by botocore for a STREAMING-...-TRAILER body, and that body."""
    payload = bytes(range(256)) * 300
    chunks = [payload[:65536], payload[65536:]]
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    head = AWSRequest(
        method="PUT",
        url="http://localhost:4599/bucket/key",
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            "X-Amz-Decoded-Content-Length": str(len(payload)),
            "X-Amz-Trailer": "x-amz-checksum-crc32",
        },
    )
    StreamingSigner(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(head)
    request = to_http(head)
    sig = parsed(request)
    trailer_value = "AAAAAA==" if tamper_trailer else crc
    body = signed_chunked_body(
        chunks, secret=SECRET_KEY, sig=sig, trailers=[("x-amz-checksum-crc32", trailer_value)]
    )
    return request, body, payload


def test_signed_chunks_with_signed_trailer_decode_and_verify() -> None:
    request, body, payload = _signed_trailer_case()
    sig = parsed(request)
    verify_sigv4(request, sig, SECRET_KEY, service_kind="s3", now=moments(sig, 1))
    decoder = AwsChunkedDecoder.for_request(request, sig, SECRET_KEY)
    assert decode(decoder, body, 999) == payload
    assert decoder.checksums == {"crc32": decoder.trailers["x-amz-checksum-crc32"]}


def test_signed_trailer_with_altered_value_does_not_match() -> None:
    request, body, _ = _signed_trailer_case()
    value = body.split(b"x-amz-checksum-crc32:")[1].split(b"\r\n")[0]
    altered = body.replace(value, b"AAAAAA==")
    decoder = AwsChunkedDecoder.for_request(request, parsed(request), SECRET_KEY)
    with pytest.raises(AuthError) as info:
        decode(decoder, altered, 4096)
    assert info.value.code == "SignatureDoesNotMatch"


def test_signed_trailer_with_wrong_checksum_is_a_bad_digest() -> None:
    request, body, _ = _signed_trailer_case(tamper_trailer=True)  # signed, but the wrong CRC
    decoder = AwsChunkedDecoder.for_request(request, parsed(request), SECRET_KEY)
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert (info.value.code, info.value.status) == ("BadDigest", 400)


def test_signed_trailer_without_its_signature_does_not_match() -> None:
    request, body, _ = _signed_trailer_case()
    stripped = body.split(b"x-amz-trailer-signature:")[0] + b"\r\n"
    decoder = AwsChunkedDecoder.for_request(request, parsed(request), SECRET_KEY)
    with pytest.raises(AuthError) as info:
        decode(decoder, stripped, 4096)
    assert info.value.code == "SignatureDoesNotMatch"


# -- unsigned bodies with trailing checksums, as botocore builds them --------------------------


def wrapped(payload: bytes, checksum_cls: Any, name: str, chunk_size: int = 1000) -> bytes:
    return AwsChunkedWrapper(io.BytesIO(payload), checksum_cls, name, chunk_size=chunk_size).read()


def unsigned_request(trailer: str, length: int) -> HttpRequest:
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-trailer": trailer,
        "x-amz-decoded-content-length": str(length),
    }
    return HttpRequest("PUT", "/b/k", "", headers, b"", "localhost")


@pytest.mark.parametrize(
    ("checksum_cls", "algorithm"),
    [(Crc32Checksum, "crc32"), (Sha1Checksum, "sha1"), (Sha256Checksum, "sha256")],
)
def test_botocore_trailer_body_decodes_and_its_checksum_verifies(
    checksum_cls: Any, algorithm: str
) -> None:
    payload = b"lambdamaker " * 1000
    name = f"x-amz-checksum-{algorithm}"
    body = wrapped(payload, checksum_cls, name)
    decoder = AwsChunkedDecoder.for_request(unsigned_request(name, len(payload)), None, None)
    assert decode(decoder, body, 333) == payload
    assert decoder.checksums == {algorithm: checksum_cls().handle(payload)}


def test_crc32c_trailer_verifies_when_a_crc32c_library_is_installed() -> None:
    if "crc32c" not in checksum_algorithms():
        pytest.skip("no CRC32C implementation installed (google-crc32c, crc32c or awscrt)")
    # The "123456789" check value of CRC-32C is 0xE3069283.
    body = b"9\r\n123456789\r\n0\r\nx-amz-checksum-crc32c:4waSgw==\r\n\r\n"
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-crc32c", 9), None, None
    )
    assert decode(decoder, body, 5) == b"123456789"
    bad = body.replace(b"4waSgw==", b"4waSgA==")
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-crc32c", 9), None, None
    )
    with pytest.raises(AuthError) as info:
        decode(decoder, bad, 5)
    assert info.value.code == "BadDigest"


def test_tampered_payload_under_a_trailer_checksum_is_a_bad_digest() -> None:
    payload = b"x" * 5000
    body = wrapped(payload, Crc32Checksum, "x-amz-checksum-crc32").replace(b"xxxx", b"xxyx", 1)
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-crc32", 5000), None, None
    )
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert (info.value.code, info.value.status) == ("BadDigest", 400)
    assert "CRC32" in info.value.message


def test_trailer_that_was_not_declared_is_malformed() -> None:
    body = wrapped(b"abc", Crc32Checksum, "x-amz-checksum-crc32")
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-sha256", 3), None, None
    )
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert (info.value.code, info.value.status) == ("MalformedTrailerError", 400)


def test_declared_trailer_that_never_came_is_malformed() -> None:
    body = AwsChunkedWrapper(io.BytesIO(b"abc")).read()  # no checksum at all
    decoder = AwsChunkedDecoder.for_request(unsigned_request("x-amz-checksum-crc32", 3), None, None)
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert info.value.code == "MalformedTrailerError"


def test_checksum_that_is_not_base64_is_invalid() -> None:
    body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:not base64!\r\n\r\n"
    decoder = AwsChunkedDecoder.for_request(unsigned_request("x-amz-checksum-crc32", 3), None, None)
    with pytest.raises(AuthError) as info:
        decode(decoder, body, 4096)
    assert (info.value.code, info.value.status) == ("InvalidRequest", 400)


def test_truncated_trailer_body_is_incomplete() -> None:
    body = wrapped(b"y" * 3000, Crc32Checksum, "x-amz-checksum-crc32")
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-crc32", 3000), None, None
    )
    decoder.feed(body[:-3])
    with pytest.raises(AuthError) as info:
        decoder.finish()
    assert info.value.code == "IncompleteBody"


def test_unsupported_checksum_algorithm_is_refused_up_front() -> None:
    if "crc64nvme" in checksum_algorithms():
        pytest.skip("the AWS CRT is installed, so CRC64NVME is supported")
    with pytest.raises(AuthError) as info:
        AwsChunkedDecoder.for_request(unsigned_request("x-amz-checksum-crc64nvme", 3), None, None)
    assert (info.value.code, info.value.status) == ("InvalidRequest", 400)


def test_boto3_put_object_over_https_sends_a_trailer_body_that_verifies() -> None:
    s3 = make_client("s3", endpoint="https://localhost:4599", s3={"addressing_style": "path"})
    payload = b"streamed by boto3 " * 5000
    request = capture(s3, "put_object", Bucket="bucket", Key="key", Body=io.BytesIO(payload))
    sig = parsed(request)
    assert sig.content_sha256 == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    verify_sigv4(request, sig, SECRET_KEY, service_kind="s3", now=moments(sig, 1))
    decoder = AwsChunkedDecoder.for_request(request, sig, SECRET_KEY)
    assert decode(decoder, request.body_bytes(), 8192) == payload
    assert set(decoder.checksums) == {"crc32"}


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=5000),
    chunk_size=st.integers(1, 3000),
    step=st.integers(1, 7000),
)
def test_any_botocore_chunking_decodes_to_the_payload(
    payload: bytes, chunk_size: int, step: int
) -> None:
    body = wrapped(payload, Sha256Checksum, "x-amz-checksum-sha256", chunk_size=chunk_size)
    decoder = AwsChunkedDecoder.for_request(
        unsigned_request("x-amz-checksum-sha256", len(payload)), None, None
    )
    assert decode(decoder, body, step) == payload

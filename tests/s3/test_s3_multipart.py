from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from s3_helpers import S3Caller, raises

from lambdamaker.platform import Platform

MiB = 1024 * 1024
PART = b"a" * (5 * MiB)


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def start(s3: S3Caller, bucket: str, key: str = "big", **params: object) -> str:
    upload_id: str = s3.create_multipart_upload(Bucket=bucket, Key=key, **params)["UploadId"]
    return upload_id


def test_multipart_upload_assembles_parts_with_md5_of_md5s_etag(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    upload = start(s3, bucket, ContentType="text/csv", Metadata={"run": "7"})
    tail = b"tail bytes"
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=PART)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=tail)["ETag"]
    out = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    digest = hashlib.md5(hashlib.md5(PART).digest() + hashlib.md5(tail).digest()).hexdigest()
    assert out["ETag"] == f'"{digest}-2"'
    assert out["Location"] == "http://127.0.0.1:4599/test-bucket/big"
    assert (out["Bucket"], out["Key"]) == (bucket, "big")
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["ContentLength"] == len(PART) + len(tail)
    assert got["ContentType"] == "text/csv"
    assert got["Metadata"] == {"run": "7"}
    assert hashlib.md5(s3.body(got)).digest() == hashlib.md5(PART + tail).digest()
    # The parts' blobs are gone; only the assembled object remains.
    assert len(list(platform.blobs("s3").blob_ids())) == 1
    with raises("NoSuchUpload", 404):
        s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)


def test_get_by_part_number_returns_that_part(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=PART)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"xyz")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    got = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert s3.body(got) == b"xyz"
    assert got["PartsCount"] == 2
    assert got["ContentRange"] == f"bytes {len(PART)}-{len(PART) + 2}/{len(PART) + 3}"
    assert got["__http_status__"] == 206
    head = s3.head_object(Bucket=bucket, Key="big", PartNumber=1)
    assert head["ContentLength"] == len(PART)
    with raises("InvalidPartNumber", 416):
        s3.head_object(Bucket=bucket, Key="big", PartNumber=3)


def test_single_small_part_upload_completes(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"tiny")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.body(s3.get_object(Bucket=bucket, Key="big")) == b"tiny"


def test_parts_smaller_than_5_mib_except_the_last_are_entity_too_small(
    s3: S3Caller, bucket: str
) -> None:
    upload = start(s3, bucket)
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"small")[
        "ETag"
    ]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"last")[
        "ETag"
    ]
    with raises("EntityTooSmall", 400) as err:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
            },
        )
    assert err[0].fields["PartNumber"] == 1
    assert err[0].fields["MinSizeAllowed"] == 5 * MiB
    # The upload survives a failed completion.
    assert len(s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]) == 2


def test_parts_out_of_order_are_invalid_part_order(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=PART)[
        "ETag"
    ]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=PART)
    for order in ([2, 1], [1, 1]):
        with raises("InvalidPartOrder", 400):
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key="big",
                UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n in order]},
            )


def test_unknown_part_or_wrong_etag_is_invalid_part(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    for part in ({"PartNumber": 2, "ETag": etag}, {"PartNumber": 1, "ETag": '"0000"'}):
        with raises("InvalidPart", 400) as err:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": [part]}
            )
        assert err[0].fields["UploadId"] == upload


def test_complete_without_parts_is_rejected(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    with raises("InvalidRequest", 400):
        s3.complete_multipart_upload(
            Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": []}
        )
    with raises("MalformedXML", 400):
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)


def test_unknown_upload_is_no_such_upload(s3: S3Caller, bucket: str) -> None:
    for call in (
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId="nope"),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="nope"),
        lambda: s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId="nope",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "x"}]},
        ),
    ):
        with raises("NoSuchUpload", 404) as err:
            call()
        assert err[0].fields == {"UploadId": "nope"}


def test_upload_id_of_another_key_is_no_such_upload(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket, key="one")
    with raises("NoSuchUpload", 404):
        s3.upload_part(Bucket=bucket, Key="two", UploadId=upload, PartNumber=1, Body=b"x")


def test_multipart_in_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.create_multipart_upload(Bucket="nope", Key="k")
    with raises("NoSuchBucket", 404):
        s3.upload_part(Bucket="nope", Key="k", UploadId="u", PartNumber=1, Body=b"x")


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_outside_1_to_10000_is_invalid_argument(
    s3: S3Caller, bucket: str, number: int
) -> None:
    upload = start(s3, bucket)
    with raises("InvalidArgument", 400):
        s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=number, Body=b"x")


def test_reuploading_a_part_replaces_it(s3: S3Caller, bucket: str, platform: Platform) -> None:
    upload = start(s3, bucket)
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"first")
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"second")[
        "ETag"
    ]
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag, 6)]
    assert len(list(platform.blobs("s3").blob_ids())) == 1


def test_upload_part_checks_content_md5(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with raises("BadDigest", 400):
        s3.upload_part(
            Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x", ContentMD5=bad
        )


def test_abort_discards_upload_and_parts(s3: S3Caller, bucket: str, platform: Platform) -> None:
    upload = start(s3, bucket)
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload) == {}
    assert list(platform.blobs("s3").blob_ids()) == []
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with raises("NoSuchUpload", 404):
        s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)


def test_list_parts_pages_by_part_number_marker(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket)
    for n in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=n, Body=b"p%d" % n)
    first = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert first["IsTruncated"] is True
    assert first["NextPartNumberMarker"] == 2
    assert len(first["Owner"]["ID"]) == 64
    rest = s3.list_parts(
        Bucket=bucket, Key="big", UploadId=upload, PartNumberMarker=first["NextPartNumberMarker"]
    )
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]
    assert rest["IsTruncated"] is False


def test_list_multipart_uploads_orders_by_key_then_initiation(s3: S3Caller, bucket: str) -> None:
    ids = [start(s3, bucket, key=k) for k in ("b", "a", "b")]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [
        ("a", ids[1]),
        ("b", ids[0]),
        ("b", ids[2]),
    ]


def test_list_multipart_uploads_pages_with_key_and_upload_id_markers(
    s3: S3Caller, bucket: str
) -> None:
    ids = [start(s3, bucket, key=k) for k in ("a", "b", "b", "c")]
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == ("b", ids[1])
    rest = s3.list_multipart_uploads(
        Bucket=bucket,
        KeyMarker=first["NextKeyMarker"],
        UploadIdMarker=first["NextUploadIdMarker"],
    )
    assert [u["UploadId"] for u in rest["Uploads"]] == [ids[2], ids[3]]
    assert rest["IsTruncated"] is False


def test_list_multipart_uploads_with_prefix_and_delimiter(s3: S3Caller, bucket: str) -> None:
    for key in ("logs/1", "logs/2", "data/x/1", "data/y", "top"):
        start(s3, bucket, key=key)
    out = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in out["Uploads"]] == ["top"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["data/", "logs/"]
    out = s3.list_multipart_uploads(Bucket=bucket, Prefix="data/", Delimiter="/")
    assert [u["Key"] for u in out["Uploads"]] == ["data/y"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["data/x/"]


def test_upload_part_copy_copies_a_range(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload = start(s3, bucket)
    out = s3.upload_part_copy(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        PartNumber=1,
        CopySource=f"{bucket}/src",
        CopySourceRange="bytes=2-5",
    )
    assert out["CopyPartResult"]["ETag"] == f'"{hashlib.md5(b"2345").hexdigest()}"'
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": out["CopyPartResult"]["ETag"]}]},
    )
    assert s3.body(s3.get_object(Bucket=bucket, Key="big")) == b"2345"


def test_upload_part_copy_without_range_copies_everything(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"whole")
    upload = start(s3, bucket)
    s3.upload_part_copy(
        Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, CopySource=f"{bucket}/src"
    )
    assert s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"][0]["Size"] == 5


@pytest.mark.parametrize("header", ["bytes=5-100", "bytes=4-2", "bytes=0-", "0-3"])
def test_bad_copy_source_range_is_invalid_argument(s3: S3Caller, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload = start(s3, bucket)
    with raises("InvalidArgument", 400):
        s3.upload_part_copy(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            PartNumber=1,
            CopySource=f"{bucket}/src",
            CopySourceRange=header,
        )


def test_complete_with_if_none_match_refuses_to_overwrite(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="big", Body=b"existing")
    upload = start(s3, bucket)
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    with raises("PreconditionFailed", 412):
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            IfNoneMatch="*",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
    assert s3.body(s3.get_object(Bucket=bucket, Key="big")) == b"existing"


# --- checksums ----------------------------------------------------------------------------------


def test_crc32_upload_gets_a_composite_checksum(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket, ChecksumAlgorithm="CRC32")
    p1 = s3.upload_part(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        PartNumber=1,
        Body=PART,
        ChecksumCRC32=crc32_b64(PART),
    )
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"end")
    assert p2["ChecksumCRC32"] == crc32_b64(b"end")  # computed when the client sends none
    out = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": p1["ETag"], "ChecksumCRC32": p1["ChecksumCRC32"]},
                {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumCRC32": p2["ChecksumCRC32"]},
            ]
        },
    )
    joined = base64.b64decode(p1["ChecksumCRC32"]) + base64.b64decode(p2["ChecksumCRC32"])
    assert out["ChecksumCRC32"] == crc32_b64(joined) + "-2"
    assert out["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == out["ChecksumCRC32"]


def test_composite_upload_needs_part_checksums_on_completion(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket, ChecksumAlgorithm="CRC32")
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    with raises("InvalidRequest", 400):
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )


def test_full_object_crc32_covers_the_whole_object(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    p1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=PART)
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"end")
    out = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        ChecksumCRC32=crc32_b64(PART + b"end"),
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]
        },
    )
    assert (out["ChecksumCRC32"], out["ChecksumType"]) == (crc32_b64(PART + b"end"), "FULL_OBJECT")


def test_part_with_another_checksum_algorithm_is_rejected(s3: S3Caller, bucket: str) -> None:
    upload = start(s3, bucket, ChecksumAlgorithm="SHA256")
    with raises("InvalidRequest", 400):
        s3.upload_part(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            PartNumber=1,
            Body=b"x",
            ChecksumCRC32=crc32_b64(b"x"),
        )


def test_full_object_type_needs_a_crc_algorithm(s3: S3Caller, bucket: str) -> None:
    with raises("InvalidRequest", 400):
        start(s3, bucket, ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    with raises("InvalidRequest", 400):
        start(s3, bucket, ChecksumType="FULL_OBJECT")

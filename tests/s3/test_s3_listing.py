from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from s3_helpers import S3Caller, raises

from lambdamaker.platform import Platform
from lambdamaker.services.s3.listing import successor
from lambdamaker.services.s3.records import ObjectRecord, upsert_object

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"

KEYS = [
    "a.txt",
    "docs/guide.md",
    "docs/img/logo.png",
    "docs/img/icon.png",
    "docs/readme.md",
    "photos/2020/jan.jpg",
    "photos/2021/feb.jpg",
    "z",
]


@pytest.fixture()
def filled(s3: S3Caller, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def keys(out: dict[str, Any]) -> list[str]:
    return [c["Key"] for c in out.get("Contents", [])]


def prefixes(out: dict[str, Any]) -> list[str]:
    return [p["Prefix"] for p in out.get("CommonPrefixes", [])]


def test_list_objects_v2_lists_everything_in_order(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled)
    assert keys(out) == sorted(KEYS)
    assert out["KeyCount"] == len(KEYS)
    assert out["IsTruncated"] is False
    assert out["MaxKeys"] == 1000
    assert out["Name"] == filled
    first = out["Contents"][0]
    assert first["Size"] == len(b"a.txt")
    assert first["StorageClass"] == "STANDARD"
    assert first["ETag"].startswith('"')
    assert "Owner" not in first


def test_fetch_owner_adds_owner(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, FetchOwner=True, MaxKeys=1)
    assert len(out["Contents"][0]["Owner"]["ID"]) == 64


def test_prefix_and_delimiter_roll_up_common_prefixes(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert keys(out) == ["a.txt", "z"]
    assert prefixes(out) == ["docs/", "photos/"]
    assert out["KeyCount"] == 4
    out = s3.list_objects_v2(Bucket=filled, Prefix="docs/", Delimiter="/")
    assert keys(out) == ["docs/guide.md", "docs/readme.md"]
    assert prefixes(out) == ["docs/img/"]
    assert out["Prefix"] == "docs/"


def test_prefix_without_delimiter_lists_the_subtree(s3: S3Caller, filled: str) -> None:
    assert keys(s3.list_objects_v2(Bucket=filled, Prefix="photos/")) == [
        "photos/2020/jan.jpg",
        "photos/2021/feb.jpg",
    ]
    assert "Contents" not in s3.list_objects_v2(Bucket=filled, Prefix="nothing")


def test_multi_character_delimiter(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, Delimiter="img/")
    assert prefixes(out) == ["docs/img/"]


def test_start_after_skips_keys(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, StartAfter="docs/readme.md")
    assert keys(out) == ["photos/2020/jan.jpg", "photos/2021/feb.jpg", "z"]
    assert out["StartAfter"] == "docs/readme.md"


def test_continuation_tokens_walk_all_pages(s3: S3Caller, filled: str) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"Bucket": filled, "MaxKeys": 3}
        if token:
            params["ContinuationToken"] = token
        out = s3.list_objects_v2(**params)
        pages += 1
        seen += keys(out)
        if not out["IsTruncated"]:
            assert "NextContinuationToken" not in out
            break
        token = out["NextContinuationToken"]
        assert out["KeyCount"] == 3
    assert seen == sorted(KEYS)
    assert pages == 3


def test_continuation_token_after_a_common_prefix_skips_it(s3: S3Caller, filled: str) -> None:
    first = s3.list_objects_v2(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert (keys(first), prefixes(first)) == (["a.txt"], ["docs/"])
    rest = s3.list_objects_v2(
        Bucket=filled, Delimiter="/", ContinuationToken=first["NextContinuationToken"]
    )
    assert (keys(rest), prefixes(rest)) == (["z"], ["photos/"])
    assert rest["ContinuationToken"] == first["NextContinuationToken"]


@pytest.mark.parametrize("token", ["not-a-token", "eyJ4IjoxfQ==", "%%%"])
def test_bad_continuation_token_is_invalid_argument(s3: S3Caller, filled: str, token: str) -> None:
    with raises("InvalidArgument", 400) as err:
        s3.list_objects_v2(Bucket=filled, ContinuationToken=token)
    assert err[0].fields["ArgumentName"] == "continuation-token"


def test_continuation_token_of_another_bucket_is_invalid(s3: S3Caller, filled: str) -> None:
    s3.create_bucket(Bucket="other")
    s3.put_object(Bucket="other", Key="a", Body=b"")
    s3.put_object(Bucket="other", Key="b", Body=b"")
    token = s3.list_objects_v2(Bucket="other", MaxKeys=1)["NextContinuationToken"]
    with raises("InvalidArgument", 400):
        s3.list_objects_v2(Bucket=filled, ContinuationToken=token)


def test_max_keys_zero_returns_nothing(s3: S3Caller, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert (out["KeyCount"], out["IsTruncated"], "Contents" in out) == (0, False, False)


def test_max_keys_above_1000_is_capped(s3: S3Caller, bucket: str, platform: Platform) -> None:
    # 1001 rows in one transaction (1001 PutObjects would cost 1001 fsyncs); the rows share one
    # empty blob, which no listing reads.
    blob = platform.blobs("s3").put_bytes(b"")
    with platform.store.begin() as conn:
        for i in range(1001):
            upsert_object(conn, ObjectRecord(bucket, f"k{i:04d}", blob, 0, EMPTY_MD5, 0))
    out = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert out["KeyCount"] == 1000
    assert out["IsTruncated"] is True


def test_negative_max_keys_is_invalid_argument(s3: S3Caller, filled: str) -> None:
    with raises("InvalidArgument", 400):
        s3.list_objects_v2(Bucket=filled, MaxKeys=-1)


def test_encoding_type_url_encodes_keys_and_prefixes(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="dir one/a+b c.txt", Body=b"")
    out = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="dir one/")
    assert keys(out) == ["dir+one/a%2Bb+c.txt"]
    assert out["Prefix"] == "dir+one/"
    assert out["EncodingType"] == "url"
    out = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert prefixes(out) == ["dir+one/"]


def test_unknown_encoding_type_is_invalid_argument(s3: S3Caller, filled: str) -> None:
    with raises("InvalidArgument", 400):
        s3.list_objects_v2(Bucket=filled, EncodingType="base64")


def test_listing_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.list_objects_v2(Bucket="nope")
    with raises("NoSuchBucket", 404):
        s3.list_objects(Bucket="nope")


def test_keys_list_in_utf8_byte_order(s3: S3Caller, bucket: str) -> None:
    names = ["a", "B", "é", "z", "~", "\u4e2d", "\U0001f600", "a/b"]
    for key in names:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    expected = sorted(names, key=lambda k: k.encode())
    assert keys(s3.list_objects_v2(Bucket=bucket)) == expected


# --- ListObjects (v1) ---------------------------------------------------------------------------


def test_list_objects_v1_pages_with_marker(s3: S3Caller, filled: str) -> None:
    first = s3.list_objects(Bucket=filled, MaxKeys=4)
    assert keys(first) == sorted(KEYS)[:4]
    assert first["IsTruncated"] is True
    assert "NextMarker" not in first  # only sent with a delimiter
    assert first["Contents"][0]["Owner"]["ID"]
    rest = s3.list_objects(Bucket=filled, Marker=first["Contents"][-1]["Key"])
    assert keys(rest) == sorted(KEYS)[4:]
    assert rest["Marker"] == first["Contents"][-1]["Key"]


def test_list_objects_v1_next_marker_with_delimiter(s3: S3Caller, filled: str) -> None:
    first = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert first["NextMarker"] == "docs/"
    rest = s3.list_objects(Bucket=filled, Delimiter="/", Marker=first["NextMarker"])
    assert (keys(rest), prefixes(rest)) == (["z"], ["photos/"])


# --- the walk against a model -------------------------------------------------------------------


def test_successor_bounds_the_prefix_range() -> None:
    assert successor("abc") == "abd"
    assert successor("a\U0010ffff") == "b"
    assert successor("\U0010ffff") is None
    assert successor("a\ud7ff") == "a\ue000"


def model_listing(all_keys: list[str], prefix: str, delimiter: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key in sorted(all_keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        if delimiter and delimiter in key[len(prefix) :]:
            cp = key[: key.index(delimiter, len(prefix)) + len(delimiter)]
            if ("p", cp) not in items:
                items.append(("p", cp))
        else:
            items.append(("k", key))
    return items


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    all_keys=st.sets(st.text(alphabet="ab/é", min_size=1, max_size=6), min_size=0, max_size=25),
    prefix=st.text(alphabet="ab/", max_size=2),
    delimiter=st.sampled_from(["", "/", "b", "a/"]),
    page=st.integers(min_value=1, max_value=5),
)
def test_paged_listing_matches_a_simple_model(
    platform: Platform, all_keys: set[str], prefix: str, delimiter: str, page: int
) -> None:
    from s3_helpers import S3Caller as Caller

    s3 = Caller(platform.providers["s3"])  # type: ignore[arg-type]
    existing = s3.list_buckets()["Buckets"]
    for b in existing:
        for c in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []):
            s3.delete_object(Bucket=b["Name"], Key=c["Key"])
        s3.delete_bucket(Bucket=b["Name"])
    s3.create_bucket(Bucket="prop")
    for key in all_keys:
        s3.put_object(Bucket="prop", Key=key, Body=b"")
    got: list[tuple[str, str]] = []
    token = None
    for _ in range(100):
        params: dict[str, Any] = {"Bucket": "prop", "Prefix": prefix, "MaxKeys": page}
        if delimiter:
            params["Delimiter"] = delimiter
        if token:
            params["ContinuationToken"] = token
        out = s3.list_objects_v2(**params)
        got += [("k", c["Key"]) for c in out.get("Contents", [])]
        got += [("p", p["Prefix"]) for p in out.get("CommonPrefixes", [])]
        assert out["KeyCount"] <= page
        if not out["IsTruncated"]:
            break
        token = out["NextContinuationToken"]
    got.sort(key=lambda item: item[1].encode())
    assert got == model_listing(list(all_keys), prefix, delimiter)

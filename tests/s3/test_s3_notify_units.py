"""The pieces of S3 event notifications in process: key encoding, matching, the configuration
cache and its invalidation race, and the store-backed sequencer (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from s3_helpers import S3Caller

from lambdamaker.platform import Platform
from lambdamaker.services.base import Principal, RequestContext
from lambdamaker.services.s3 import S3Provider
from lambdamaker.services.s3.events import (
    BucketTargets,
    NotificationCache,
    Target,
    allocate_sequencers,
    customer_id,
    encode_key,
    iso_ms,
    principal_id,
    targets_of,
)
from lambdamaker.services.s3.tables import sequencers
from lambdamaker.store import Store
from lambdamaker.store.migrations import create_tables


def test_keys_are_url_encoded_with_plus_for_space_and_slashes_kept() -> None:
    assert encode_key("a b/c+d.txt") == "a+b/c%2Bd.txt"
    assert encode_key("naïve/日本.csv") == "na%C3%AFve/%E6%97%A5%E6%9C%AC.csv"
    assert encode_key("x=(1)&y") == "x%3D%281%29%26y"
    assert encode_key("safe-_.~") == "safe-_.~"


def test_event_time_has_milliseconds_and_z() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


def test_targets_match_event_types_and_filters() -> None:
    target = Target("id", "arn", ("s3:ObjectCreated:*",), "in/", ".csv")
    assert target.matches("ObjectCreated:Put", "in/a.csv", "in/a.csv")
    assert target.matches("ObjectCreated:CompleteMultipartUpload", "in/a.csv", "in/a.csv")
    assert not target.matches("ObjectRemoved:Delete", "in/a.csv", "in/a.csv")
    assert not target.matches("ObjectCreated:Put", "out/a.csv", "out/a.csv")
    assert not target.matches("ObjectCreated:Put", "in/a.json", "in/a.json")
    exact = Target("id", "arn", ("s3:ObjectRemoved:Delete",), "", "")
    assert exact.matches("ObjectRemoved:Delete", "k", "k")
    assert not exact.matches("ObjectCreated:Put", "k", "k")
    # A filter written URL-encoded (as S3 documents for special characters) matches too.
    spaced = Target("id", "arn", ("s3:ObjectCreated:*",), "my+dir/", "")
    assert spaced.matches("ObjectCreated:Put", "my dir/a", encode_key("my dir/a"))


def test_stored_configuration_flattens_to_targets() -> None:
    config: dict[str, Any] = {
        "TopicConfigurations": [{"Id": "t", "TopicArn": "T", "Events": ["s3:ObjectCreated:*"]}],
        "QueueConfigurations": [
            {
                "Id": "q",
                "QueueArn": "Q",
                "Events": ["s3:ObjectRemoved:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "p/"}]}},
            }
        ],
        "EventBridgeConfiguration": {},
    }
    assert targets_of(config) == (
        Target("q", "Q", ("s3:ObjectRemoved:*",), "p/", ""),
        Target("t", "T", ("s3:ObjectCreated:*",), "", ""),
    )


def test_cache_refuses_a_fill_that_raced_an_invalidation() -> None:
    cache = NotificationCache()
    assert cache.lookup("b") == (False, None)
    generation = cache.generation
    cache.invalidate("b")  # the configuration changed while a reader was loading the old one
    cache.fill("b", BucketTargets("b", "us-east-1", "0", ()), generation)
    assert cache.lookup("b") == (False, None)
    cache.fill("b", None, cache.generation)
    assert cache.lookup("b") == (True, None)
    cache.invalidate("b")
    assert cache.lookup("b") == (False, None)


def test_sequencers_count_per_bucket_in_the_writing_transaction(store: Store) -> None:
    with store.begin() as conn:
        create_tables(sequencers)(conn)
    with store.begin() as conn:
        assert allocate_sequencers(conn, "a", 1) == 1
        assert allocate_sequencers(conn, "a", 3) == 2
        assert allocate_sequencers(conn, "b", 1) == 1
    try:
        with store.begin() as conn:
            assert allocate_sequencers(conn, "a", 1) == 5
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with store.begin() as conn:
        assert allocate_sequencers(conn, "a", 1) == 5


def test_a_bucket_without_configuration_never_touches_the_sequencer(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    provider = platform.providers["s3"]
    assert isinstance(provider, S3Provider)
    assert provider.notifier.cache.lookup(bucket) == (True, None)
    with platform.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sequencers)).scalar() == 0


def test_configuration_change_invalidates_the_cached_configuration(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    provider = platform.providers["s3"]
    assert isinstance(provider, S3Provider)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert provider.notifier.cache.lookup(bucket) == (True, None)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "q",
                    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:absent",
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
        SkipDestinationValidation=True,
    )
    assert provider.notifier.cache.lookup(bucket) == (False, None)
    # The destination's service is not running here: the write succeeds, the event is dropped.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    cached, entry = provider.notifier.cache.lookup(bucket)
    assert cached and entry is not None and entry.targets[0].config_id == "q"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
    assert provider.notifier.cache.lookup(bucket) == (False, None)


def test_principal_ids_name_the_root_by_customer_id_and_iam_users_by_id() -> None:
    def ctx(arn: str | None, user: str = "") -> RequestContext:
        principal = Principal(arn, "000000000000", user_id=user) if arn else None
        return RequestContext("r", "s3", "PutObject", "us-east-1", "000000000000", principal)

    root = principal_id(ctx("arn:aws:iam::000000000000:root", "AKIAROOT"))
    assert root == customer_id("000000000000") and re.fullmatch(r"A[A-Z2-7]{13}", root)
    assert principal_id(ctx(None)) == root
    assert principal_id(ctx("arn:aws:iam::000000000000:user/alice", "alice")) == "AWS:alice"
    assert customer_id("111111111111") != root

"""Bucket operations: CreateBucket, DeleteBucket, ListBuckets, HeadBucket, GetBucketLocation.

Bucket names are global (one namespace for every account of the platform, as in an AWS
partition). The location constraint rules are S3's: an endpoint outside us-east-1 needs one
that matches its region, us-east-1 must not be named, and ``EU`` means eu-west-1. Re-creating
your own bucket answers 200 in us-east-1 (S3's legacy behaviour) and BucketAlreadyOwnedByYou
elsewhere. A bucket with objects cannot be deleted; its unfinished multipart uploads go with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import sqlalchemy as sa

from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import errors
from lambdamaker.services.s3.base import S3Base
from lambdamaker.services.s3.names import owner, validate_bucket_name
from lambdamaker.services.s3.records import BucketRecord, insert_ignore, select_bucket, to_datetime
from lambdamaker.services.s3.tables import buckets, objects, parts, sequencers, uploads

US_EAST_1 = "us-east-1"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def bucket_region(location: str) -> str:
    """The region of a bucket from its stored location constraint."""
    return "eu-west-1" if location == "EU" else location


def _illegal_location(constraint: str) -> errors.ServiceError:
    return errors.ServiceError(
        f"The {constraint} location constraint is incompatible for the region specific "
        "endpoint this request was sent to.",
        code="IllegalLocationConstraintException",
        status=400,
    )


def _invalid_location(constraint: str) -> errors.ServiceError:
    return errors.ServiceError(
        "The specified location-constraint is not valid",
        code="InvalidLocationConstraint",
        status=400,
        LocationConstraint=constraint,
    )


def resolve_location(request_region: str, config: dict[str, Any] | None) -> str:
    """The location constraint to store for a new bucket, validated as S3 does."""
    constraint = (config or {}).get("LocationConstraint") or ""
    if not constraint:
        if request_region != US_EAST_1:
            raise _illegal_location("unspecified")
        return US_EAST_1
    if constraint == US_EAST_1 or (constraint != "EU" and not _REGION.match(constraint)):
        raise _invalid_location(constraint)
    # The us-east-1 (global) endpoint accepts any region; a regional endpoint only its own.
    if request_region != US_EAST_1 and bucket_region(constraint) != request_region:
        raise _illegal_location(constraint)
    return str(constraint)


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(f"b1:{name}".encode()).decode()


def _decode_token(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError):
        raw = ""
    if not raw.startswith("b1:"):
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        )
    return raw[3:]


class BucketOperations(S3Base):
    def create_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        validate_bucket_name(name)
        request_region = ctx.region or self.platform.config.region
        location = resolve_location(request_region, params.get("CreateBucketConfiguration"))
        record = BucketRecord(name, ctx.account_id, location, self.now_ms())
        with self.store.begin() as conn:
            existing = select_bucket(conn, name)
            if existing is None:
                values = {
                    "name": name,
                    "account_id": record.account_id,
                    "region": location,
                    "created_ms": record.created_ms,
                }
                if insert_ignore(conn, buckets, values).rowcount == 0:
                    existing = select_bucket(conn, name)
        if existing is not None:
            if existing.account_id != ctx.account_id:
                raise errors.bucket_already_exists(name)
            if not (request_region == US_EAST_1 and existing.region == US_EAST_1):
                raise errors.bucket_already_owned_by_you(name)
        if location == US_EAST_1:
            where = f"/{name}"
        else:
            where = f"{ctx.endpoint_url.rstrip('/')}/{name}/" if ctx.endpoint_url else f"/{name}"
        return {"Location": where, "BucketArn": f"arn:aws:s3:::{name}"}

    def delete_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        with self.store.begin() as conn:
            record = select_bucket(conn, name)
            if record is None:
                raise errors.no_such_bucket(name)
            self.check_expected_owner(params, record.account_id)
            has_object = conn.execute(
                sa.select(objects.c.key).where(objects.c.bucket == name).limit(1)
            ).first()
            if has_object is not None:
                raise errors.bucket_not_empty(name)
            upload_ids = sa.select(uploads.c.upload_id).where(uploads.c.bucket == name)
            part_blobs = [
                row.blob_id
                for row in conn.execute(
                    sa.select(parts.c.blob_id).where(parts.c.upload_id.in_(upload_ids))
                )
            ]
            conn.execute(sa.delete(parts).where(parts.c.upload_id.in_(upload_ids)))
            conn.execute(sa.delete(uploads).where(uploads.c.bucket == name))
            conn.execute(sa.delete(buckets).where(buckets.c.name == name))
            conn.execute(sa.delete(sequencers).where(sequencers.c.bucket == name))
            self.notifier.changed(conn, name)
        self.discard_blobs(part_blobs)
        return {}

    def list_buckets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        max_buckets = params.get("MaxBuckets")
        if max_buckets is not None and not 1 <= max_buckets <= 10000:
            raise errors.invalid_argument(
                "Argument max-buckets must be an integer between 1 and 10000",
                "max-buckets",
                max_buckets,
            )
        limit = max_buckets or 10000
        stmt = sa.select(buckets).where(buckets.c.account_id == ctx.account_id)
        token = params.get("ContinuationToken")
        if token:
            stmt = stmt.where(buckets.c.name > _decode_token(token))
        prefix = params.get("Prefix")
        if prefix:
            stmt = stmt.where(sa.func.substr(buckets.c.name, 1, len(prefix)) == prefix)
        region = params.get("BucketRegion")
        if region:
            locations = ["EU", region] if region == "eu-west-1" else [region]
            stmt = stmt.where(buckets.c.region.in_(locations))
        with self.store.read() as conn:
            rows = conn.execute(stmt.order_by(buckets.c.name).limit(limit + 1)).all()
        out: dict[str, Any] = {
            "Buckets": [
                {
                    "Name": row.name,
                    "CreationDate": to_datetime(row.created_ms),
                    "BucketRegion": bucket_region(row.region),
                    "BucketArn": f"arn:aws:s3:::{row.name}",
                }
                for row in rows[:limit]
            ],
            "Owner": owner(ctx.account_id),
        }
        if prefix:
            out["Prefix"] = prefix
        if len(rows) > limit:
            out["ContinuationToken"] = _encode_token(rows[limit - 1].name)
        return out

    def head_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        record = self.bucket_or_raise(params)
        return {"BucketRegion": bucket_region(record.region), "AccessPointAlias": False}

    def get_bucket_location(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        record = self.bucket_or_raise(params)
        # us-east-1 buckets have an empty LocationConstraint on the wire (botocore: None).
        if record.region == US_EAST_1:
            return {}
        return {"LocationConstraint": record.region}

"""``LogsProvider``: CloudWatch Logs (json protocol, ``Logs_20140328``) over the log store.

Groups, streams, retention and tags here; events in ``events``. The provider owns no tables:
``platform.logs`` (``observability.logs.LogStore``) does, because the functions engine writes
the same groups (``/aws/lambda/<name>``) through it.

Supported: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, CreateLogStream, DeleteLogStream,
DescribeLogStreams, PutLogEvents, GetLogEvents, FilterLogEvents, PutRetentionPolicy,
DeleteRetentionPolicy, TagLogGroup, UntagLogGroup, ListTagsLogGroup, TagResource, UntagResource,
ListTagsForResource. Not kept: KMS keys are recorded and echoed but nothing is encrypted;
deletion protection, data protection and metric/subscription filters are not implemented.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.observability.log_types import LogGroupInfo, LogStreamInfo
from lambdamaker.services.base import RequestContext
from lambdamaker.services.logs.common import (
    MAX_TAGS,
    RETENTION_DAYS,
    InvalidParameterError,
    TooManyTagsError,
    decode_name,
    decode_pair,
    encode_name,
    encode_pair,
    group_name_of,
    name_from_identifier,
    stream_arn,
)
from lambdamaker.services.logs.events import EventOperations


class LogsProvider(EventOperations):
    service = "logs"

    # --- groups -------------------------------------------------------------------------------

    def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logGroupName"]
        if name.startswith("aws/"):
            raise InvalidParameterError("Log group names can't start with the string aws/.")
        tags = params.get("tags") or {}
        self.platform.logs.create_group(
            name,
            tags=tags,
            kms_key_id=params.get("kmsKeyId"),
            log_group_class=params.get("logGroupClass") or "STANDARD",
        )
        return {}

    def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.platform.logs.delete_group(params["logGroupName"])
        return {}

    def describe_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise InvalidParameterError(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        identifiers = params.get("logGroupIdentifiers")
        names = (
            [name_from_identifier(i, ctx.account_id) for i in identifiers]
            if identifiers is not None
            else None
        )
        limit = int(params.get("limit") or 50)
        token = params.get("nextToken")
        groups = self.platform.logs.list_groups(
            prefix=prefix,
            contains=pattern or None,
            names=names,
            log_group_class=params.get("logGroupClass"),
            after=decode_name("g", token) if token is not None else None,
            limit=limit + 1,
        )
        out: dict[str, Any] = {
            "logGroups": [_group_shape(g, brief=pattern is not None) for g in groups[:limit]]
        }
        if len(groups) > limit:
            out["nextToken"] = encode_name("g", groups[limit - 1].name)
        return out

    def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        days = int(params["retentionInDays"])
        if days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise InvalidParameterError(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        self.platform.logs.set_retention(params["logGroupName"], days)
        return {}

    def delete_retention_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.platform.logs.set_retention(params["logGroupName"], None)
        return {}

    # --- streams ------------------------------------------------------------------------------

    def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.platform.logs.create_stream(params["logGroupName"], params["logStreamName"])
        return {}

    def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.platform.logs.delete_stream(params["logGroupName"], params["logStreamName"])
        return {}

    def describe_log_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(params, ctx.account_id)
        by_time = params.get("orderBy", "LogStreamName") == "LastEventTime"
        prefix = params.get("logStreamNamePrefix")
        if by_time and prefix is not None:
            raise InvalidParameterError("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending", False))
        limit = int(params.get("limit") or 50)
        token = params.get("nextToken")
        after: tuple[int, int] | str | None = None
        if token is not None:
            after = decode_pair("t", token)[1] if by_time else decode_name("n", token)
        logs = self.platform.logs
        streams = logs.list_streams(
            group,
            prefix=prefix,
            by_last_event=by_time,
            descending=descending,
            after=after,
            limit=limit + 1,
        )
        group_arn = logs.group_arn(group)
        out: dict[str, Any] = {"logStreams": [_stream_shape(s, group_arn) for s in streams[:limit]]}
        if len(streams) > limit:
            last = streams[limit - 1]
            out["nextToken"] = (
                encode_pair("t", last.sort_key) if by_time else encode_name("n", last.name)
            )
        return out

    # --- tags ---------------------------------------------------------------------------------

    def _tag(self, group: str, tags: dict[str, str], error: type[Exception]) -> None:
        logs = self.platform.logs
        current = logs.get_group(group).tags
        if len(current.keys() | tags.keys()) > MAX_TAGS:
            raise error(f"A resource can have no more than {MAX_TAGS} tags.")
        logs.update_tags(group, tags)

    def tag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(params["logGroupName"], params["tags"], InvalidParameterError)
        return {}

    def untag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.platform.logs.update_tags(params["logGroupName"], remove=params["tags"])
        return {}

    def list_tags_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.platform.logs.get_group(params["logGroupName"]).tags}

    def _group_of_arn(self, ctx: RequestContext, arn: str) -> str:
        if ":log-group:" not in arn:
            raise InvalidParameterError(f"Invalid resource ARN: {arn}")
        return name_from_identifier(arn, ctx.account_id)

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of_arn(ctx, params["resourceArn"])
        self._tag(group, params["tags"], TooManyTagsError)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of_arn(ctx, params["resourceArn"])
        self.platform.logs.update_tags(group, remove=params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of_arn(ctx, params["resourceArn"])
        return {"tags": self.platform.logs.get_group(group).tags}


def _group_shape(g: LogGroupInfo, *, brief: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "logGroupName": g.name,
        "creationTime": g.created_ms,
        "arn": g.arn + ":*",
    }
    if brief:  # logGroupNamePattern: "only arn, creationTime, and logGroupName"
        return out
    out.update(
        metricFilterCount=0,
        storedBytes=g.stored_bytes,
        logGroupClass=g.log_group_class,
        logGroupArn=g.arn,
    )
    if g.retention_days is not None:
        out["retentionInDays"] = g.retention_days
    if g.kms_key_id:
        out["kmsKeyId"] = g.kms_key_id
    return out


def _stream_shape(s: LogStreamInfo, group_arn: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "logStreamName": s.name,
        "creationTime": s.created_ms,
        "arn": stream_arn(group_arn, s.name),
        "storedBytes": s.stored_bytes,
        "uploadSequenceToken": f"{s.upload_sequence:056d}",
    }
    if s.first_event_ms is not None:
        out["firstEventTimestamp"] = s.first_event_ms
    if s.last_event_ms is not None:
        out["lastEventTimestamp"] = s.last_event_ms
    if s.last_ingestion_ms is not None:
        out["lastIngestionTime"] = s.last_ingestion_ms
    return out

"""What the log store hands out: plain records, and its errors in CloudWatch Logs' words.

The errors carry AWS's codes and messages because CloudWatch Logs is the one API over this
store; the Logs provider lets them through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lambdamaker.errors import ResourceNotFoundError, ServiceError

Position = tuple[int, int]
"""A place in the event order: (timestamp ms, event id). Tokens encode one."""


class LogGroupNotFoundError(ResourceNotFoundError):
    code = "ResourceNotFoundException"
    status = 400

    def __init__(self, message: str = "The specified log group does not exist.") -> None:
        super().__init__(message)


class LogStreamNotFoundError(ResourceNotFoundError):
    code = "ResourceNotFoundException"
    status = 400

    def __init__(self, message: str = "The specified log stream does not exist.") -> None:
        super().__init__(message)


class LogGroupExistsError(ServiceError):
    code = "ResourceAlreadyExistsException"
    status = 400

    def __init__(self, message: str = "The specified log group already exists") -> None:
        super().__init__(message)


class LogStreamExistsError(ServiceError):
    code = "ResourceAlreadyExistsException"
    status = 400

    def __init__(self, message: str = "The specified log stream already exists") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class LogGroupInfo:
    name: str
    created_ms: int
    retention_days: int | None
    arn: str
    """Without the trailing ``:*`` (``logGroupArn``)."""
    kms_key_id: str | None
    log_group_class: str
    tags: dict[str, str] = field(default_factory=dict)
    stored_bytes: int = 0


@dataclass(frozen=True)
class LogStreamInfo:
    name: str
    created_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    upload_sequence: int
    stored_bytes: int
    id: int = 0
    """The row id: with ``last_event_ms`` it orders streams by LastEventTime (see ``sort_key``)."""

    @property
    def sort_key(self) -> tuple[int, int]:
        """The LastEventTime order key: (last event time, or -1 for none yet; id)."""
        return (self.last_event_ms if self.last_event_ms is not None else -1, self.id)


@dataclass(frozen=True)
class LogEvent:
    id: int
    timestamp_ms: int
    ingestion_ms: int
    message: str
    stream: str = ""
    """The stream's name (filled by ``filter_events``, which spans streams)."""

    @property
    def position(self) -> Position:
        return (self.timestamp_ms, self.id)

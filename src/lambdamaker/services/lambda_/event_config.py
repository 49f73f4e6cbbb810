"""FunctionEventInvokeConfig: how Lambda retries an asynchronous invocation and where it sends
the outcome (Put/Get/Update/Delete/ListFunctionEventInvokeConfigs).

Invariants:
- One config per (function, qualifier); an unqualified function is ``$LATEST``. An event uses
  the config of the qualifier it was invoked with (an alias's config, not its version's).
- Stored as given: members a caller never set stay absent in Get (as on AWS), and the
  dispatcher applies the defaults (2 retries, 6 hours) through ``EventConfig``.
- Destinations are validated when the config is saved: SQS queues and Lambda functions are
  delivered to; SNS topics and EventBridge buses are refused with a clear message (not
  delivered to yet). A destination that disappears later is logged at delivery and skipped.
- Deleting the function, a version or an alias deletes its configs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceNotFoundError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import now_ms
from lambdamaker.services.lambda_.tables import event_configs

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
_DESTINATION = re.compile(r"arn:aws[a-zA-Z-]*:(?P<service>[a-z0-9-]+):[a-z0-9-]*:\d{12}:.+")
_UNSUPPORTED = {"sns": "SNS topics", "events": "EventBridge event buses"}


@dataclass(frozen=True)
class EventConfig:
    """The effective async policy of one (function, qualifier)."""

    max_retries: int = DEFAULT_RETRIES
    max_age_s: int = DEFAULT_MAX_AGE_S
    on_success: str | None = None
    on_failure: str | None = None

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> EventConfig:
        destinations = stored.get("DestinationConfig") or {}
        return cls(
            max_retries=stored.get("MaximumRetryAttempts", DEFAULT_RETRIES),
            max_age_s=stored.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination"),
            on_failure=(destinations.get("OnFailure") or {}).get("Destination"),
        )


_SELECT = sa.select(event_configs.c.config).where(
    event_configs.c.function_name == sa.bindparam("name"),
    event_configs.c.qualifier == sa.bindparam("qualifier"),
)


def load_event_config(conn: Connection, name: str, qualifier: str | None) -> EventConfig:
    stored = conn.execute(_SELECT, {"name": name, "qualifier": qualifier or LATEST}).scalar()
    return EventConfig.from_stored(orjson.loads(stored)) if stored is not None else EventConfig()


def delete_event_config(conn: Connection, name: str, qualifier: str) -> None:
    """Drop the config of a version or alias being deleted (as Lambda does)."""
    conn.execute(sa.delete(event_configs).filter_by(function_name=name, qualifier=qualifier))


def destination_service(arn: str) -> str | None:
    match = _DESTINATION.fullmatch(arn)
    return match.group("service") if match else None


def _check_destinations(config: dict[str, Any]) -> None:
    for kind in ("OnSuccess", "OnFailure"):
        arn = (config.get(kind) or {}).get("Destination")
        if arn is None:
            continue
        service = destination_service(arn)
        if service in _UNSUPPORTED:
            raise InvalidParameterValueError(
                f"The destination {arn} is not supported here: lambdamaker delivers async "
                f"invocation records to SQS queues and Lambda functions, not yet to "
                f"{_UNSUPPORTED[service]}."
            )
        if service not in ("sqs", "lambda"):
            raise InvalidParameterValueError(
                f"The provided destination config DestinationConfig.{kind}.Destination is "
                f"invalid: {arn}"
            )


def _check_ranges(config: dict[str, Any]) -> None:
    retries = config.get("MaximumRetryAttempts")
    if retries is not None and not 0 <= retries <= 2:
        raise InvalidParameterValueError("MaximumRetryAttempts must be between 0 and 2.")
    age = config.get("MaximumEventAgeInSeconds")
    if age is not None and not 60 <= age <= 21600:
        raise InvalidParameterValueError("MaximumEventAgeInSeconds must be between 60 and 21600.")


class EventConfigOperations(LambdaBase):
    def _config_target(self, conn: Connection, params: dict[str, Any]) -> tuple[str, str]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        self.resolve(conn, name, qualifier)  # the function, version or alias must exist
        return name, qualifier or LATEST

    def _stored(self, conn: Connection, name: str, qualifier: str) -> dict[str, Any] | None:
        row = conn.execute(_SELECT, {"name": name, "qualifier": qualifier}).scalar()
        return orjson.loads(row) if row is not None else None

    def _not_found(self, name: str, qualifier: str) -> ResourceNotFoundError:
        return ResourceNotFoundError(
            f"The function {self.arns.function(name, qualifier)} doesn't have an EventInvokeConfig"
        )

    def _shape(self, name: str, qualifier: str, stored: dict[str, Any], modified: int) -> Any:
        destinations = stored.get("DestinationConfig") or {}
        out: dict[str, Any] = {
            "LastModified": modified / 1000,
            "FunctionArn": self.arns.function(name, qualifier),
            "DestinationConfig": {
                "OnSuccess": destinations.get("OnSuccess") or {},
                "OnFailure": destinations.get("OnFailure") or {},
            },
        }
        for member in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if member in stored:
                out[member] = stored[member]
        return out

    def _save(self, params: dict[str, Any], merge: bool) -> dict[str, Any]:
        given = {
            k: params[k]
            for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if params.get(k) is not None
        }
        _check_ranges(given)
        _check_destinations(given.get("DestinationConfig") or {})
        with self.store.begin() as conn:
            name, qualifier = self._config_target(conn, params)
            current = self._stored(conn, name, qualifier)
            if merge:
                if current is None:
                    raise self._not_found(name, qualifier)
                destinations = {
                    **(current.get("DestinationConfig") or {}),
                    **(given.get("DestinationConfig") or {}),
                }
                given = {**current, **given, "DestinationConfig": destinations}
            modified = now_ms()
            key = {"function_name": name, "qualifier": qualifier}
            conn.execute(sa.delete(event_configs).filter_by(**key))
            conn.execute(
                sa.insert(event_configs).values(
                    **key, config=orjson.dumps(given).decode(), last_modified_ms=modified
                )
            )
        return self._shape(name, qualifier, given, modified)

    def put_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._save(params, merge=False)

    def update_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._save(params, merge=True)

    def get_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.store.read() as conn:
            name, qualifier = self._config_target(conn, params)
            row = conn.execute(
                sa.select(event_configs).filter_by(function_name=name, qualifier=qualifier)
            ).first()
        if row is None:
            raise self._not_found(name, qualifier)
        return self._shape(name, qualifier, orjson.loads(row.config), row.last_modified_ms)

    def delete_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.store.begin() as conn:
            name, qualifier = self._config_target(conn, params)
            deleted = conn.execute(
                sa.delete(event_configs).filter_by(function_name=name, qualifier=qualifier)
            ).rowcount
        if not deleted:
            raise self._not_found(name, qualifier)
        return {}

    def list_function_event_invoke_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"], None)
        with self.store.read() as conn:
            self.function_row(conn, name)
            rows = conn.execute(
                sa.select(event_configs)
                .where(event_configs.c.function_name == name)
                .order_by(event_configs.c.qualifier)
            ).all()
        chunk, marker = page(rows, params, key=lambda r: str(r.qualifier))
        out: dict[str, Any] = {
            "FunctionEventInvokeConfigs": [
                self._shape(name, r.qualifier, orjson.loads(r.config), r.last_modified_ms)
                for r in chunk
            ]
        }
        if marker:
            out["NextMarker"] = marker
        return out

"""FunctionEventInvokeConfig: how Lambda retries an asynchronous invocation and where it sends
the outcome (Put/Get/Update/Delete/ListFunctionEventInvokeConfigs).

Invariants:
- One config per (function, qualifier); an unqualified function is ``$LATEST``. An event uses
  the config of the qualifier it was invoked with (an alias's config, not its version's).
- Stored as given: members a caller never set stay absent in Get (as on AWS), and the
  dispatcher applies the defaults (2 retries, 6 hours) through ``EventConfig``.
- Destinations are validated when the config is saved, as Lambda does: an ARN of an SQS queue,
  SNS topic, Lambda function or EventBridge event bus (``InvalidParameterValueException``
  otherwise). Whether the resource exists is not checked then (as on AWS): a destination that
  is missing at delivery is logged and skipped.
- Deleting the function, a version or an alias deletes its configs.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceNotFoundError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.event_policy import (
    SELECT_CONFIG,
    EventConfig,
    bump_generation,
    configs_changed,
)
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import now_ms
from lambdamaker.services.lambda_.tables import event_configs

__all__ = ["EventConfig", "EventConfigOperations", "configs_changed", "delete_event_config"]

_DESTINATION = re.compile(
    r"arn:aws[a-zA-Z0-9-]*:(?P<service>[a-zA-Z0-9-]+):([a-z]+(-[a-z]+)+-\d)?:(\d{12})?:(?P<rest>.+)"
)
_RESOURCE = {
    "sqs": re.compile(r"[a-zA-Z0-9_-]{1,80}(\.fifo)?"),
    "sns": re.compile(r"[a-zA-Z0-9_-]{1,256}(\.fifo)?"),
    "lambda": re.compile(r"function:[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]+))?"),
    "events": re.compile(r"event-bus/[/.\-_A-Za-z0-9]{1,256}"),
}
DESTINATION_SERVICES = frozenset(_RESOURCE)
DEAD_LETTER_SERVICES = frozenset({"sqs", "sns"})


def delete_event_config(conn: Connection, name: str, qualifier: str) -> None:
    """Drop the config of a version or alias being deleted (as Lambda does)."""
    bump_generation()  # the caller's ``changed`` bumps it again after the commit
    conn.execute(sa.delete(event_configs).filter_by(function_name=name, qualifier=qualifier))


def destination_service(arn: str) -> str | None:
    match = _DESTINATION.fullmatch(arn)
    return match.group("service") if match else None


def target_service(arn: str, allowed: frozenset[str]) -> str | None:
    """The service of a well-formed destination or dead-letter ARN among ``allowed``."""
    match = _DESTINATION.fullmatch(arn)
    if match is None:
        return None
    service = match.group("service")
    if service not in allowed or not _RESOURCE[service].fullmatch(match.group("rest")):
        return None
    return service


def _check_destinations(config: dict[str, Any]) -> None:
    for kind in ("OnSuccess", "OnFailure"):
        arn = (config.get(kind) or {}).get("Destination")
        if not arn:  # "" clears a destination, as on AWS
            continue
        if target_service(arn, DESTINATION_SERVICES) is None:
            raise InvalidParameterValueError(
                f"The provided destination config DestinationConfig.{kind}.Destination is "
                f"invalid: {arn}. It must be the ARN of an SQS queue, an SNS topic, a Lambda "
                "function or an EventBridge event bus."
            )


def check_dead_letter(config: dict[str, Any] | None) -> None:
    """``DeadLetterConfig`` of CreateFunction/UpdateFunctionConfiguration: an SQS queue or an
    SNS topic (``TargetArn`` empty removes it)."""
    arn = (config or {}).get("TargetArn")
    if arn and target_service(arn, DEAD_LETTER_SERVICES) is None:
        raise InvalidParameterValueError(
            f"The provided DeadLetterConfig TargetArn is invalid: {arn}. It must be the ARN of "
            "an SQS queue or an SNS topic."
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
        row = conn.execute(SELECT_CONFIG, {"name": name, "qualifier": qualifier}).scalar()
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
            configs_changed(self.store, conn)
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
            configs_changed(self.store, conn)
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

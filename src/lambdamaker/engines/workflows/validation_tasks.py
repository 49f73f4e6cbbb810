"""Task and Fail state checks (Resource, timeouts, heartbeats, credentials; Error/Cause)."""

from __future__ import annotations

import re
from typing import Any

from lambdamaker.engines.workflows import validation_rules as rules
from lambdamaker.engines.workflows.validation_core import (
    JSONATA,
    Collector,
    child,
    is_expression,
    is_int,
)

# arn:partition:service:region:account:resource — region and account are empty for the
# service integrations (arn:aws:states:::sqs:sendMessage).
_ARN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:.+")
_MAX_SECONDS = 99999999


def resource_ok(value: str) -> bool:
    return bool(_ARN.fullmatch(value))


_EXPRESS_UNSUPPORTED = (".sync:2", ".sync", ".waitForTaskToken")


def _express_resource(c: Collector, resource: str, location: str) -> None:
    """Express workflows run at most five minutes in memory: no activities, no waiting patterns."""
    if resource.split(":")[2:3] == ["states"] and ":activity:" in resource:
        c.schema("Express state machine does not support Activity ARN", location)
        return
    for pattern in _EXPRESS_UNSUPPORTED:
        if resource.startswith("arn:") and resource.endswith(pattern):
            c.schema(
                f"Express state machine does not support '{pattern}' service integration", location
            )
            return


def seconds(c: Collector, state: dict[str, Any], field: str, location: str, language: str) -> None:
    """TimeoutSeconds/HeartbeatSeconds and their *Path forms (only one of the two)."""
    path_field = f"{field}Path"
    if field in state and path_field in state:
        c.schema(f"Only one of the fields '{field}' or '{path_field}' may be set", location)
    if field in state:
        value = state[field]
        if not (language == JSONATA and isinstance(value, str)):
            c.integer(value, child(location, field), 1, _MAX_SECONDS)
        elif is_expression(value):
            rules.expression(c, value, child(location, field))
        else:
            c.schema("Expected value of type [INTEGER]", child(location, field))
    if path_field in state and language != JSONATA:
        rules.path(c, state[path_field], path_field, child(location, path_field))


def check_task(c: Collector, state: dict[str, Any], location: str, language: str) -> None:
    if "Resource" not in state:
        c.required(["Resource"], location)
    else:
        resource = state["Resource"]
        where = child(location, "Resource")
        if c.expect(resource, str, where) and not resource_ok(resource):
            c.schema(
                f"The resource provided {resource} is not recognized. The value is not a valid "
                "resource ARN, or the resource is not available in this region.",
                where,
            )
        elif c.express and isinstance(resource, str):
            _express_resource(c, resource, where)
    seconds(c, state, "TimeoutSeconds", location, language)
    seconds(c, state, "HeartbeatSeconds", location, language)
    timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
    if (
        isinstance(timeout, int)
        and isinstance(heartbeat, int)
        and is_int(timeout)
        and is_int(heartbeat)
        and heartbeat >= timeout
    ):
        c.schema(
            "The value of the field 'HeartbeatSeconds' must be less than the value of the field "
            "'TimeoutSeconds'",
            child(location, "HeartbeatSeconds"),
        )
    if "Credentials" in state:
        rules.template_object(c, state["Credentials"], child(location, "Credentials"), language)


def check_fail(c: Collector, state: dict[str, Any], location: str, language: str) -> None:
    for field in ("Error", "Cause"):
        path_field = f"{field}Path"
        if field in state and path_field in state:
            c.schema(
                f"A Fail state cannot include both field '{field}' and '{path_field}'", location
            )
        if field in state:
            where = child(location, field)
            if c.expect(state[field], str, where) and language == JSONATA:
                rules.expression(c, state[field], where)
            elif language != JSONATA and rules.looks_dynamic(state[field]):
                c.warning(
                    "NO_PATH",
                    f"The value of the field '{field}' looks like a path, but the field name does not "
                    "end with 'Path'",
                    where,
                )
        if path_field in state and language != JSONATA:
            rules.path_or_intrinsic(c, state[path_field], path_field, child(location, path_field))

"""What the Step Functions resource operations share: errors, ARNs, names, paging tokens.

ARN shapes (kept here with the errors that reject them):

- state machine  ``arn:aws:states:<region>:<account>:stateMachine:<name>``
- version        ``<state machine ARN>:<n>``      (n a positive integer)
- alias          ``<state machine ARN>:<alias>``  (alias names contain a non-digit)
- activity       ``arn:aws:states:<region>:<account>:activity:<name>``

Invariants:
- an ARN of another account or region names nothing here: lookups treat it as absent, so the
  error is the "does not exist" one, never another tenant's resource;
- names follow AWS's rule (1-80 characters, none of whitespace, ``<>{}[]?*"#%\\^|~`$&,;:/`` or
  control characters); alias names follow the model's ``CharacterRestrictedName`` pattern,
  which the protocol layer enforces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from lambdamaker.errors import ServiceError
from lambdamaker.services import tokens
from lambdamaker.services.base import RequestContext

DEFAULT_PAGE = 100
T = TypeVar("T")


def sfn_error(code: str, message: str, **fields: Any) -> ServiceError:
    """Step Functions answers every modelled error with HTTP 400."""
    return ServiceError(message, code=code, status=400, **fields)


def invalid_arn(arn: str) -> ServiceError:
    return sfn_error("InvalidArn", f"Invalid Arn: '{arn}'")


def invalid_name(name: str) -> ServiceError:
    return sfn_error("InvalidName", f"Invalid Name: '{name}'")


def state_machine_not_found(arn: str) -> ServiceError:
    return sfn_error("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


def activity_not_found(arn: str) -> ServiceError:
    return sfn_error("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")


def resource_not_found(arn: str) -> ServiceError:
    return sfn_error("ResourceNotFound", f"Resource not found: '{arn}'", resourceName=arn)


def validation(message: str, reason: str | None = None) -> ServiceError:
    if reason is None:
        return sfn_error("ValidationException", message)
    return sfn_error("ValidationException", message, reason=reason)


def conflict(message: str) -> ServiceError:
    return sfn_error("ConflictException", message)


# Whitespace, brackets, wildcards, the listed specials, and C0/C1 control characters.
_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def check_name(name: str) -> None:
    if not 1 <= len(name) <= 80 or _FORBIDDEN.search(name):
        raise invalid_name(name)


_ARN = re.compile(
    r"arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):(stateMachine|activity):([^:]+)(?::([^:]+))?"
)
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_VERSION = re.compile(r"[1-9]\d{0,9}")


@dataclass(frozen=True)
class StatesArn:
    """A parsed ``states`` ARN of a state machine (maybe qualified) or an activity."""

    region: str
    account: str
    kind: str  # "stateMachine" | "activity"
    name: str
    qualifier: str | None  # version number or alias name; None when unqualified

    @property
    def base(self) -> str:
        """The unqualified ARN (the state machine's own)."""
        return f"arn:aws:states:{self.region}:{self.account}:{self.kind}:{self.name}"

    @property
    def version(self) -> int | None:
        if self.qualifier is not None and _VERSION.fullmatch(self.qualifier):
            return int(self.qualifier)
        return None

    @property
    def alias(self) -> str | None:
        if self.qualifier is not None and not _VERSION.fullmatch(self.qualifier):
            return self.qualifier
        return None


def parse_arn(arn: str, kind: str = "stateMachine") -> StatesArn:
    """Parse a ``states`` ARN of the given kind, or raise InvalidArn."""
    match = _ARN.fullmatch(arn)
    if match is None or match.group(4) != kind:
        raise invalid_arn(arn)
    if kind == "activity" and match.group(6) is not None:
        raise invalid_arn(arn)
    return StatesArn(match.group(2), match.group(3), kind, match.group(5), match.group(6))


def owned(ctx: RequestContext, parsed: StatesArn) -> bool:
    """Whether the ARN is in the caller's account and region (else it names nothing)."""
    return parsed.account == ctx.account_id and parsed.region == ctx.region


def check_role_arn(arn: str) -> None:
    if _ROLE_ARN.fullmatch(arn) is None:
        raise invalid_arn(arn)


def state_machine_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:states:{ctx.region}:{ctx.account_id}:stateMachine:{name}"


def activity_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:states:{ctx.region}:{ctx.account_id}:activity:{name}"


def page_size(params: dict[str, Any]) -> int:
    """``maxResults``: 0 or absent means the default page."""
    return int(params.get("maxResults") or DEFAULT_PAGE)


def encode_token(key: Any) -> str:
    return tokens.encode_token(key)


def decode_token(params: dict[str, Any]) -> Any:
    """The position a ``nextToken`` carries, or None on the first page."""
    token = params.get("nextToken")
    if token is None:
        return None
    fields = tokens.decode_token(token, 1)
    if fields is None:
        raise sfn_error("InvalidToken", f"Invalid Token: '{token}'")
    return fields[0]


def name_after(params: dict[str, Any]) -> str | None:
    """The name a name-ordered list (state machines, activities, aliases) resumes after."""
    after = decode_token(params)
    if after is not None and not isinstance(after, str):
        raise sfn_error("InvalidToken", "Invalid Token: 'Invalid token'")
    return after


def page(
    rows: Sequence[Any],
    limit: int,
    member: str,
    render: Callable[[Any], dict[str, Any]],
    position: Callable[[Any], Any],
) -> dict[str, Any]:
    """A list answer from ``rows`` read with ``limit + 1``: the first ``limit`` rendered under
    ``member``, and a ``nextToken`` at the last one shown when there is more."""
    out: dict[str, Any] = {member: [render(row) for row in rows[:limit]]}
    if len(rows) > limit:
        out["nextToken"] = encode_token(position(rows[limit - 1]))
    return out


def once_more_on_conflict(attempt: Callable[[], T]) -> T:
    """Run a write transaction, and once more if a concurrent writer inserted the same key
    first (PostgreSQL; SQLite serializes writers): the rerun sees that row and answers as a
    repeat request would (idempotent result or the "already exists" error)."""
    try:
        return attempt()
    except sa.exc.IntegrityError:
        return attempt()


def dumps(value: Any) -> str:
    """Canonical JSON for stored configuration (sorted keys: equal configs, equal text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

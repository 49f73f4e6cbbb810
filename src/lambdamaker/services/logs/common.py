"""What the CloudWatch Logs operations share: errors, identifiers, pagination tokens.

Tokens are ours and opaque to clients, but readable when debugging:

- GetLogEvents: ``f/<40 digits>`` and ``b/<40 digits>`` (forward and backward), the digits being
  an event position (20-digit timestamp, 20-digit event id), the shape AWS's tokens have. A page
  with nothing new returns the token it was given, which is how clients detect the end.
- FilterLogEvents: ``lm1.a.<timestamp>.<id>`` (ascending) or ``lm1.d...`` (descending).
- DescribeLogStreams: ``lm1.n.<base64url name>`` (by name) or ``lm1.t.<time>.<id>`` (by last
  event time); DescribeLogGroups: ``lm1.g.<base64url name>``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from lambdamaker.errors import ServiceError
from lambdamaker.observability.log_types import LogGroupNotFoundError, Position


class InvalidParameterError(ServiceError):
    code = "InvalidParameterException"
    status = 400


class TooManyTagsError(ServiceError):
    code = "TooManyTagsException"
    status = 400


RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_TAGS = 50

_GROUP_ARN = re.compile(r"arn:aws[\w-]*:logs:([\w-]*):(\d{12}):log-group:([^:]+)(:\*)?")


def invalid_token() -> InvalidParameterError:
    return InvalidParameterError("The specified nextToken is invalid.")


def group_name_of(params: dict[str, Any], account_id: str) -> str:
    """The log group of a request that takes ``logGroupName`` or ``logGroupIdentifier``
    (a name or an ARN), exactly one of them."""
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if name is not None and ident is not None:
        raise InvalidParameterError(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        )
    if name is not None:
        return str(name)
    if ident is None:
        raise InvalidParameterError("Should provide either name or ARN of the log group.")
    return name_from_identifier(str(ident), account_id)


def name_from_identifier(ident: str, account_id: str) -> str:
    """A log group name from a name or a log group ARN (with or without ``:*``)."""
    if not ident.startswith("arn:"):
        return ident
    m = _GROUP_ARN.fullmatch(ident)
    if m is None:
        raise InvalidParameterError(f"Invalid log group ARN: {ident}")
    if m.group(2) != account_id:
        # Cross-account observability is not supported: another account has no groups here.
        raise LogGroupNotFoundError()
    return m.group(3)


def stream_arn(group_arn: str, stream: str) -> str:
    return f"{group_arn}:log-stream:{stream}"


# --- tokens -----------------------------------------------------------------------------------


def encode_position(pos: Position) -> str:
    return f"{pos[0]:020d}{pos[1]:020d}"


def decode_position(digits: str) -> Position:
    if len(digits) != 40 or not digits.isdigit():
        raise invalid_token()
    return int(digits[:20]), int(digits[20:])


def encode_name(prefix: str, name: str) -> str:
    return f"lm1.{prefix}.{base64.urlsafe_b64encode(name.encode()).decode()}"


def decode_name(prefix: str, token: str) -> str:
    head = f"lm1.{prefix}."
    if not token.startswith(head):
        raise invalid_token()
    try:
        return base64.urlsafe_b64decode(token[len(head) :].encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid_token() from exc


def encode_pair(prefix: str, pos: tuple[int, int]) -> str:
    return f"lm1.{prefix}.{pos[0]}.{pos[1]}"


def decode_pair(prefixes: str, token: str) -> tuple[str, tuple[int, int]]:
    """(which prefix, the pair) of a ``lm1.<p>.<int>.<int>`` token whose ``p`` is in ``prefixes``."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "lm1" or parts[1] not in prefixes or not parts[1]:
        raise invalid_token()
    try:
        return parts[1], (int(parts[2]), int(parts[3]))
    except ValueError as exc:
        raise invalid_token() from exc

"""Function and layer names and ARNs: parsing what callers send, building what Lambda returns.

A function is named by its name (``my-function``), a partial ARN
(``123456789012:function:my-function``) or a full ARN, any of them optionally qualified
(``my-function:prod``, ``...:function:my-function:3``); a separate ``Qualifier`` parameter must
then agree with the one in the name. Everything lives in the platform's one account and region;
an ARN naming another region is not reachable, as on AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdamaker.errors import InvalidParameterValueError, ResourceNotFoundError, ValidationError

LATEST = "$LATEST"

_FUNCTION_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)
_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
_LAYER_VERSION_ARN = re.compile(
    r"arn:(?:aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9_-]+):(?P<version>[0-9]+)"
)
_LAYER_ARN = re.compile(
    r"arn:(?:aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9_-]+)"
)
_VERSION = re.compile(r"[0-9]+")
_ALIAS = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]+")


def is_version(qualifier: str) -> bool:
    return qualifier == LATEST or _VERSION.fullmatch(qualifier) is not None


def is_alias(qualifier: str) -> bool:
    return _ALIAS.fullmatch(qualifier) is not None and not is_version(qualifier)


@dataclass(frozen=True)
class Arns:
    """ARN builders for the platform's account and region."""

    region: str
    account: str

    def function(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def layer(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:layer:{name}"

    def layer_version(self, name: str, version: int) -> str:
        return f"{self.layer(name)}:{version}"

    def parse_function(
        self, value: str, qualifier: str | None = None, *, allow_qualifier: bool = True
    ) -> tuple[str, str | None]:
        """(name, qualifier) of a function name or ARN and an optional ``Qualifier``."""
        match = _FUNCTION_NAME.fullmatch(value)
        if match is None:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at 'functionName' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_NAME_PATTERN}"
            )
        region, account = match.group("region"), match.group("account")
        name, derived = match.group("name"), match.group("qualifier")
        if region is not None and region != self.region:
            raise ResourceNotFoundError(
                f"Functions from '{region}' are not reachable in this region ('{self.region}')"
            )
        if account is not None and account != self.account:
            raise ResourceNotFoundError(f"Function not found: {value}")
        if qualifier and derived and qualifier != derived:
            raise InvalidParameterValueError(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        resolved = qualifier or derived
        if resolved is not None and not allow_qualifier:
            raise InvalidParameterValueError(
                "This operation is permitted on Lambda functions only. Aliases and versions do "
                "not support this operation. Please specify either a function name or an "
                "unqualified function ARN."
            )
        return name, resolved

    def parse_layer_version(self, arn: str) -> tuple[str, int] | None:
        """(layer name, version) of a layer version ARN of this account, else None."""
        match = _LAYER_VERSION_ARN.fullmatch(arn)
        if match is None or match.group("account") != self.account:
            return None
        if match.group("region") != self.region:
            return None
        return match.group("name"), int(match.group("version"))

    def layer_name(self, value: str) -> str:
        """A layer name, or the name in a layer ARN."""
        match = _LAYER_ARN.fullmatch(value)
        return match.group("name") if match is not None else value


def role_name(role_arn: str) -> str:
    """``arn:aws:iam::1:role/path/name`` → ``name`` (assumed-role ARNs drop the path)."""
    return role_arn.rsplit("/", 1)[-1]

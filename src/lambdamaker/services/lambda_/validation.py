"""Checks of a function's configuration beyond the model's constraints (which the protocol layer
enforces), with Lambda's error codes and messages.

The model allows more than Lambda does (memory up to 32,768 MB, timeouts up to 5,400 s, every
runtime ever released); Lambda then answers ``InvalidParameterValueException``. Each check
raises before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from lambdamaker.errors import InvalidParameterValueError, ValidationError
from lambdamaker.services.lambda_ import limits

_PYTHON_HANDLER = re.compile(r"(?:[A-Za-z_][\w.-]*/)*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_ENV_NAME = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")


def check_runtime(runtime: str | None) -> str:
    if runtime is None:
        # Runtime is required for zip packages (image packages are not supported here).
        raise InvalidParameterValueError(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    if runtime not in limits.SUPPORTED_RUNTIMES:
        valid = ", ".join(limits.SUPPORTED_RUNTIMES)
        raise InvalidParameterValueError(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{valid}] or be a valid ARN"
        )
    return runtime


def check_handler(handler: str | None, runtime: str) -> str:
    """Python handlers are ``module.function`` (``pkg/mod.fn`` and ``pkg.mod.fn`` allowed)."""
    if runtime in limits.PROVIDED_RUNTIMES:
        # provided.* runtimes pass the handler to the bootstrap as _HANDLER, uninterpreted.
        return handler or ""
    if not handler:
        raise InvalidParameterValueError(
            "Runtime and Handler are mandatory parameters for functions created with "
            "deployment packages."
        )
    if _PYTHON_HANDLER.fullmatch(handler) is None:
        raise InvalidParameterValueError(
            f"The value of the Handler parameter ('{handler}') is not valid for runtime "
            f"{runtime}: it must be module.function (for example lambda_function."
            "lambda_handler), where module is the Python module path relative to the "
            "deployment package root."
        )
    return handler


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if value < low:
        raise InvalidParameterValueError(
            f"'{name}' value failed to satisfy constraint: Member must have value greater "
            f"than or equal to {low}"
        )
    if value > high:
        raise InvalidParameterValueError(
            f"'{name}' value failed to satisfy constraint: Member must have value less than "
            f"or equal to {high}"
        )
    return value


def check_memory(value: int) -> int:
    return _check_range("MemorySize", value, limits.MEMORY_RANGE)


def check_timeout(value: int) -> int:
    return _check_range("Timeout", value, limits.TIMEOUT_RANGE)


def check_ephemeral(storage: dict[str, Any]) -> int:
    return _check_range("EphemeralStorage.Size", int(storage["Size"]), limits.EPHEMERAL_RANGE)


def check_architectures(values: list[str] | None) -> list[str]:
    if not values:
        return ["x86_64"]
    if len(values) != 1 or values[0] not in limits.ARCHITECTURES:
        shown = ", ".join(values)
        raise ValidationError(
            f"1 validation error detected: Value '[{shown}]' at 'architectures' failed to "
            "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
            "value set: [x86_64, arm64], Member must not be null]"
        )
    return list(values)


def check_environment(variables: dict[str, str]) -> dict[str, str]:
    """Names, Lambda's reserved keys, the 4 KB limit and the preload setting."""
    bad = [name for name in variables if _ENV_NAME.fullmatch(name) is None]
    if bad:
        raise ValidationError(
            "1 validation error detected: Value at 'environment.variables' failed to satisfy "
            "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
            "expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
        )
    reserved = sorted(name for name in variables if name in limits.RESERVED_ENVIRONMENT)
    if reserved:
        raise InvalidParameterValueError(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = orjson.dumps(variables).decode()
    if len(measured.encode()) > limits.ENVIRONMENT_LIMIT:
        raise InvalidParameterValueError(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: "
            f"{measured}"
        )
    preload_modules(variables)
    return dict(variables)


def preload_modules(variables: dict[str, str]) -> tuple[str, ...]:
    """The modules named by ``LAMBDAMAKER_PRELOAD`` (comma-separated), validated."""
    raw = variables.get(limits.PRELOAD_VARIABLE, "")
    modules = tuple(part.strip() for part in raw.split(",") if part.strip())
    bad = [m for m in modules if _MODULE.fullmatch(m) is None]
    if bad:
        raise InvalidParameterValueError(
            f"{limits.PRELOAD_VARIABLE} must be a comma-separated list of Python module names; "
            f"not valid: {', '.join(bad)}"
        )
    return modules


def snapshot_enabled(variables: dict[str, str]) -> bool:
    return variables.get(limits.SNAPSHOT_VARIABLE, "").strip().lower() not in ("off", "0", "false")


def check_snap_start(value: dict[str, Any] | None) -> str:
    apply_on = (value or {}).get("ApplyOn", "None")
    if apply_on not in ("PublishedVersions", "None"):
        raise ValidationError(
            f"1 validation error detected: Value '{apply_on}' at 'snapStart.applyOn' failed to "
            "satisfy constraint: Member must satisfy enum value set: [PublishedVersions, None]"
        )
    return str(apply_on)


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > limits.MAX_TAGS:
        raise InvalidParameterValueError("Number of tags exceeds resource tag limit.")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterValueError(
                "Tag keys prefixed with 'aws:' are reserved for AWS use."
            )
    return dict(tags)

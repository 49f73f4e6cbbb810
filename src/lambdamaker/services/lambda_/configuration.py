"""A version's configuration: built from CreateFunction, changed by UpdateFunctionConfiguration,
validated as Lambda validates it. Stored as JSON in the API's member names.

Layers are stored resolved (ARN, size, unpacked tree, blob), because a function keeps working
when a layer version it uses is deleted, as on AWS.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ValidationError
from lambdamaker.services.lambda_ import limits, validation
from lambdamaker.services.lambda_.arns import Arns
from lambdamaker.services.lambda_.event_config import check_dead_letter
from lambdamaker.services.lambda_.tables import layer_versions

_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_STORED_AS_IS = ("TracingConfig", "DeadLetterConfig", "KMSKeyArn", "VpcConfig")


def resolve_layers(conn: Connection, arns: Arns, layer_arns: list[str]) -> list[dict[str, Any]]:
    if len(layer_arns) > limits.MAX_LAYERS:
        raise InvalidParameterValueError(f"Cannot reference more than {limits.MAX_LAYERS} layers.")
    resolved: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for arn in layer_arns:
        parsed = arns.parse_layer_version(arn)
        if parsed is None:
            raise InvalidParameterValueError(f"Layer version {arn} does not exist.")
        name, version = parsed
        if name in seen:
            raise InvalidParameterValueError(
                "Two different versions of the same layer are not allowed to be referenced in "
                f"the same function. {seen[name]} and {arn} are versions of the same layer."
            )
        seen[name] = arn
        row = conn.execute(
            sa.select(layer_versions).where(
                layer_versions.c.name == name, layer_versions.c.version == version
            )
        ).first()
        if row is None:
            raise InvalidParameterValueError(f"Layer version {arn} does not exist.")
        resolved.append(
            {
                "Arn": arn,
                "CodeSize": row.code_size,
                "Hex": row.code_hex,
                "Blob": row.code_blob,
                "Unzipped": row.code_unzipped,
            }
        )
    return resolved


def check_total_size(code_unzipped: int, layers: list[dict[str, Any]]) -> None:
    total = code_unzipped + sum(int(layer["Unzipped"]) for layer in layers)
    if total > limits.UNZIPPED_CODE_LIMIT:
        raise InvalidParameterValueError(
            "Function code combined with layers exceeds the maximum allowed size of "
            f"{limits.UNZIPPED_CODE_LIMIT} bytes. The actual size is {total} bytes."
        )


def _logging(
    name: str, value: dict[str, Any] | None, previous: dict[str, Any] | None
) -> dict[str, Any]:
    merged = dict(previous or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"})
    merged.update(value or {})
    if merged.get("LogFormat") == "JSON":
        merged.setdefault("ApplicationLogLevel", "INFO")
        merged.setdefault("SystemLogLevel", "INFO")
    else:
        merged.pop("ApplicationLogLevel", None)
        merged.pop("SystemLogLevel", None)
    merged.setdefault("LogGroup", f"/aws/lambda/{name}")
    return merged


def new_config(name: str, params: dict[str, Any], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """The configuration of a new function from CreateFunction's parameters (all checked)."""
    if params.get("PackageType", "Zip") != "Zip":
        raise InvalidParameterValueError(
            "lambdamaker runs .zip deployment packages only; container images (PackageType "
            "Image) are not supported."
        )
    runtime = validation.check_runtime(params.get("Runtime"))
    config: dict[str, Any] = {
        "Runtime": runtime,
        "Handler": validation.check_handler(params.get("Handler"), runtime),
        "Role": params["Role"],
        "Description": params.get("Description", ""),
        "Timeout": validation.check_timeout(int(params.get("Timeout", limits.DEFAULT_TIMEOUT))),
        "MemorySize": validation.check_memory(int(params.get("MemorySize", limits.DEFAULT_MEMORY))),
        "EphemeralStorage": validation.check_ephemeral(
            params.get("EphemeralStorage") or {"Size": limits.DEFAULT_EPHEMERAL}
        ),
        "Architectures": validation.check_architectures(params.get("Architectures")),
        "SnapStartApplyOn": validation.check_snap_start(params.get("SnapStart")),
        "LoggingConfig": _logging(name, params.get("LoggingConfig"), None),
        "Layers": layers,
    }
    environment = (params.get("Environment") or {}).get("Variables")
    if environment is not None:
        config["Environment"] = validation.check_environment(environment)
    for member in _STORED_AS_IS:
        if params.get(member):
            config[member] = params[member]
    check_dead_letter(config.get("DeadLetterConfig"))
    check_role(config["Role"])
    return config


def updated_config(
    name: str, current: dict[str, Any], params: dict[str, Any], layers: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """``current`` with UpdateFunctionConfiguration's members applied (all checked)."""
    config = dict(current)
    if "Runtime" in params:
        config["Runtime"] = validation.check_runtime(params["Runtime"])
    if "Handler" in params or "Runtime" in params:
        config["Handler"] = validation.check_handler(
            params.get("Handler", config["Handler"]), config["Runtime"]
        )
    if "Role" in params:
        config["Role"] = check_role(params["Role"])
    if "Description" in params:
        config["Description"] = params["Description"]
    if "Timeout" in params:
        config["Timeout"] = validation.check_timeout(int(params["Timeout"]))
    if "MemorySize" in params:
        config["MemorySize"] = validation.check_memory(int(params["MemorySize"]))
    if "EphemeralStorage" in params:
        config["EphemeralStorage"] = validation.check_ephemeral(params["EphemeralStorage"])
    if "SnapStart" in params:
        config["SnapStartApplyOn"] = validation.check_snap_start(params["SnapStart"])
    if "LoggingConfig" in params:
        config["LoggingConfig"] = _logging(
            name, params["LoggingConfig"], current.get("LoggingConfig")
        )
    if "Environment" in params:
        variables = (params["Environment"] or {}).get("Variables") or {}
        config["Environment"] = validation.check_environment(variables)
    if layers is not None:
        config["Layers"] = layers
    for member in _STORED_AS_IS:
        if member in params:
            config[member] = params[member] or None
    check_dead_letter(config.get("DeadLetterConfig"))
    return config


def check_role(role: str) -> str:
    if _ROLE.fullmatch(role) is None:
        raise ValidationError(
            f"1 validation error detected: Value '{role}' at 'role' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
        )
    return role

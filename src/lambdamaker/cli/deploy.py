"""Deploying a directory as a function, through the public Lambda and IAM APIs.

``deploy_function`` creates the function or, when it exists, updates its code then its
configuration, waiting after each step with boto3's own waiters (``function_active_v2``,
``function_updated_v2``) as AWS requires: a second update while one is in progress fails with
``ResourceConflictException``.

On update, only what the command line gives changes (the handler always; runtime, memory,
timeout, role, description, environment variables and preload when given); everything else is
kept, so a redeploy does not silently reset settings made elsewhere.

The package is a deterministic zip (sorted entries, fixed timestamps, file modes kept) without
``__pycache__``, ``*.pyc`` or VCS directories, so unchanged code keeps its ``CodeSha256``.
Packages above the 50 MB direct-upload limit go through S3, as with AWS.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_RUNTIME = "python3.11"
DEFAULT_ROLE_NAME = "lambdamaker-default-function-role"
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
PRELOAD_VARIABLE = "LAMBDAMAKER_PRELOAD"
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
_SKIPPED_DIRS = {
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_WAIT = {"Delay": 0.25, "MaxAttempts": 2400}  # poll quickly, for up to 10 minutes

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def zip_directory(directory: Path) -> bytes:
    """The deployment package of ``directory``: paths relative to it, deterministic."""
    buf = io.BytesIO()
    root = Path(directory)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
            for filename in sorted(filenames):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                path = Path(dirpath) / filename
                mode = path.stat().st_mode
                if not stat.S_ISREG(mode):
                    continue
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), _ZIP_EPOCH)
                info.external_attr = (stat.S_IMODE(mode) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def handler_module_missing(directory: Path, handler: str) -> bool:
    """Whether ``handler``'s module is absent from ``directory`` (it may come from a layer)."""
    module, _, _ = handler.rpartition(".")
    if not module:
        return True
    rel = Path(*module.replace(".", "/").split("/"))
    return not ((directory / rel).with_suffix(".py").is_file() or (directory / rel).is_dir())


def environment_with(
    current: Mapping[str, str], updates: Mapping[str, str], preload: list[str] | None
) -> dict[str, str]:
    """``current`` variables with ``updates`` applied and ``LAMBDAMAKER_PRELOAD`` set from
    ``preload`` (an empty list removes it; None keeps what is there)."""
    variables = {**current, **updates}
    if preload is not None:
        if preload:
            variables[PRELOAD_VARIABLE] = ",".join(preload)
        else:
            variables.pop(PRELOAD_VARIABLE, None)
    return variables


def ensure_default_role(iam: Any) -> str:
    """The ARN of ``lambdamaker-default-function-role``, created on first use."""
    try:
        return str(iam.get_role(RoleName=DEFAULT_ROLE_NAME)["Role"]["Arn"])
    except Exception as exc:
        if _code(exc) != "NoSuchEntity":
            raise
    try:
        arn = str(
            iam.create_role(
                RoleName=DEFAULT_ROLE_NAME,
                AssumeRolePolicyDocument=TRUST_POLICY,
                Description="Default execution role of functions deployed by lambdamaker",
            )["Role"]["Arn"]
        )
    except Exception as exc:
        if _code(exc) != "EntityAlreadyExists":  # a concurrent deploy made it
            raise
        return str(iam.get_role(RoleName=DEFAULT_ROLE_NAME)["Role"]["Arn"])
    try:
        iam.attach_role_policy(RoleName=DEFAULT_ROLE_NAME, PolicyArn=BASIC_EXECUTION_POLICY)
    except Exception as exc:
        if _code(exc) != "NoSuchEntity":
            raise
    return arn


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@dataclass
class DeployRequest:
    name: str
    handler: str
    package: bytes
    runtime: str | None = None
    memory: int | None = None
    timeout: int | None = None
    role: str | None = None
    description: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    preload: list[str] | None = None


def deploy_function(clients: Any, req: DeployRequest) -> tuple[str, dict[str, Any]]:
    """Create or update; returns ("created" | "updated", the final configuration).

    ``clients(service)`` returns a boto3 client."""
    lam = clients("lambda")
    try:
        current: dict[str, Any] | None = lam.get_function_configuration(FunctionName=req.name)
    except Exception as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        current = None
    code = _code_location(clients, req)
    if current is None:
        role = req.role or ensure_default_role(clients("iam"))
        params: dict[str, Any] = {
            "FunctionName": req.name,
            "Runtime": req.runtime or DEFAULT_RUNTIME,
            "Role": role,
            "Handler": req.handler,
            "Code": code,
            "MemorySize": req.memory or 128,
            "Timeout": req.timeout or 3,
        }
        variables = environment_with({}, req.environment, req.preload)
        if variables:
            params["Environment"] = {"Variables": variables}
        if req.description is not None:
            params["Description"] = req.description
        lam.create_function(**params)
        lam.get_waiter("function_active_v2").wait(FunctionName=req.name, WaiterConfig=_WAIT)
        action = "created"
    else:
        lam.update_function_code(FunctionName=req.name, **code)
        lam.get_waiter("function_updated_v2").wait(FunctionName=req.name, WaiterConfig=_WAIT)
        changes: dict[str, Any] = {"Handler": req.handler}
        for key, value in (
            ("Runtime", req.runtime),
            ("MemorySize", req.memory),
            ("Timeout", req.timeout),
            ("Role", req.role),
            ("Description", req.description),
        ):
            if value is not None:
                changes[key] = value
        if req.environment or req.preload is not None:
            existing = (current.get("Environment") or {}).get("Variables") or {}
            changes["Environment"] = {
                "Variables": environment_with(existing, req.environment, req.preload)
            }
        lam.update_function_configuration(FunctionName=req.name, **changes)
        lam.get_waiter("function_updated_v2").wait(FunctionName=req.name, WaiterConfig=_WAIT)
        action = "updated"
    final: dict[str, Any] = lam.get_function_configuration(FunctionName=req.name)
    return action, final


def _code_location(clients: Any, req: DeployRequest) -> dict[str, Any]:
    """``{"ZipFile": ...}``, or ``{"S3Bucket", "S3Key"}`` above the direct-upload limit."""
    if len(req.package) <= DIRECT_UPLOAD_LIMIT:
        return {"ZipFile": req.package}
    account = clients("sts").get_caller_identity()["Account"]
    bucket = f"lambdamaker-deployments-{account}"
    s3 = clients("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except Exception as exc:
        if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    key = f"{req.name}/{hashlib.sha256(req.package).hexdigest()}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=req.package)
    return {"S3Bucket": bucket, "S3Key": key}

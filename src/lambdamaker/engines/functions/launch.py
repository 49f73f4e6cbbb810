"""What a Python environment is started with: its environment variables, import path and
sandbox parameters, derived from a ``FunctionSpec`` (plain data, sent to the template).

Environment variables follow "Defined runtime environment variables" of the Lambda docs
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html): the function's own
variables may override the unreserved ones (``PATH``, ``LANG``, ``TZ``, ``LD_LIBRARY_PATH``,
``PYTHONPATH``, ``AWS_ENDPOINT_URL``...) but never the reserved ones (``_HANDLER``,
``AWS_REGION``, ``AWS_LAMBDA_*``, ``LAMBDA_TASK_ROOT``, credentials...). Paths differ from
Lambda's where the host's layout does: ``LAMBDA_TASK_ROOT`` is the code directory, and each
layer's ``python/lib/pythonX.Y/site-packages`` and ``python/`` go on ``sys.path`` after the task
root, later layers first (so a later layer wins, as when layers are unpacked into one ``/opt``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from lambdamaker.engines.functions.contract import lambda_environment
from lambdamaker.engines.functions.spec import FunctionSpec

RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def log_group(spec: FunctionSpec) -> str:
    return spec.log_group or f"/aws/lambda/{spec.function_name}"


def _versions(spec: FunctionSpec) -> list[str]:
    wanted = spec.runtime.removeprefix("python") if spec.runtime.startswith("python") else ""
    return [v for v in dict.fromkeys([HOST_PYTHON, wanted]) if v]


def sys_path_prefix(spec: FunctionSpec) -> list[str]:
    layers = list(reversed(spec.layer_dirs))
    site = [f"{d}/python/lib/python{v}/site-packages" for d in layers for v in _versions(spec)]
    return [spec.code_dir, *site, *(f"{d}/python" for d in layers)]


def environ(spec: FunctionSpec, *, initialization_type: str = "on-demand") -> dict[str, str]:
    task_root = spec.code_dir
    bin_dir = os.path.dirname(sys.executable)
    layer_bins = [f"{d}/bin" for d in reversed(spec.layer_dirs)]
    layer_libs = [f"{d}/lib" for d in reversed(spec.layer_dirs)]
    env = {
        "PATH": ":".join([bin_dir, "/usr/local/bin", "/usr/bin/", "/bin", *layer_bins]),
        "LD_LIBRARY_PATH": ":".join(
            [
                f"{sys.base_prefix}/lib",
                "/lib64",
                "/usr/lib64",
                RUNTIME_DIR,
                f"{RUNTIME_DIR}/lib",
                task_root,
                f"{task_root}/lib",
                *layer_libs,
            ]
        ),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": RUNTIME_DIR,
    }
    return lambda_environment(
        spec,
        base=env,
        log_group=log_group(spec),
        log_stream="",
        initialization_type=initialization_type,
        extra={
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        },
    )


def launch_params(
    spec: FunctionSpec,
    *,
    uid: int | None,
    hide: list[str],
    initialization_type: str = "on-demand",
) -> dict[str, Any]:
    """Everything a template needs to make an environment (or a snapshot) of ``spec``."""
    return {
        "uid": uid,
        "gid": uid,
        "tmp_mb": int(spec.ephemeral_storage_mb),
        "private": [spec.code_dir, *spec.layer_dirs],
        "hide": hide,
        "environ": environ(spec, initialization_type=initialization_type),
        "cwd": spec.code_dir,
        "sys_path": sys_path_prefix(spec),
        "handler": spec.handler,
    }

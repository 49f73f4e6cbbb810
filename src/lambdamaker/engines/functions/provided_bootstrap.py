"""What a ``provided.*`` bootstrap gets from the platform: which executable runs, its process
environment, and the per-invocation context it reads from the ``/next`` headers.

Layers have no shared ``/opt`` here: each layer's ``bin`` goes on ``PATH`` and its ``lib`` on
``LD_LIBRARY_PATH`` (Lambda's ``/opt/bin`` and ``/opt/lib``), ``LAMBDAMAKER_OPT_DIR`` names the
first layer's directory and ``LAMBDAMAKER_LAYER_DIRS`` all of them (``:``-separated), in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from pathlib import Path

from lambdamaker.engines.functions.contract import lambda_environment
from lambdamaker.engines.functions.spec import FunctionSpec


def find_bootstrap(spec: FunctionSpec) -> tuple[Path | None, list[str]]:
    """The bootstrap Lambda would run, and the paths it looked at (for the error message)."""
    candidates = [Path(spec.code_dir) / "bootstrap"]
    candidates += [Path(d) / "bootstrap" for d in reversed(spec.layer_dirs)]
    for path in candidates:
        if path.is_file():
            return path, [str(p) for p in candidates]
    return None, [str(p) for p in candidates]


def runtime_environment(
    spec: FunctionSpec,
    *,
    runtime_api: str,
    log_group: str,
    log_stream: str,
    tmp_dir: str,
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    """The process environment of a bootstrap: nothing inherited from the platform's own.

    Lambda lets functions override ``PATH``, ``LD_LIBRARY_PATH``, ``LANG`` and ``TZ`` but not its
    reserved variables, so ``spec.environment`` goes between the two.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    layers = list(spec.layer_dirs)
    env = {
        "PATH": ":".join(["/usr/local/bin", "/usr/bin", "/bin", *(f"{d}/bin" for d in layers)]),
        "LD_LIBRARY_PATH": ":".join(
            ["/lib64", "/usr/lib64", spec.code_dir, f"{spec.code_dir}/lib"]
            + [f"{d}/lib" for d in layers]
        ),
        # Lambda sets en_US.UTF-8; hosts often lack that locale and C.UTF-8 means the same here.
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "TMPDIR": tmp_dir,
    }
    extra = {"AWS_LAMBDA_RUNTIME_API": runtime_api, "LAMBDAMAKER_LAYER_DIRS": ":".join(layers)}
    if layers:
        extra["LAMBDAMAKER_OPT_DIR"] = layers[0]
    return lambda_environment(
        spec,
        base=env,
        log_group=log_group,
        log_stream=log_stream,
        initialization_type=initialization_type,
        extra=extra,
    )


def trace_id() -> str:
    """An X-Ray trace header, as Lambda passes one on every invoke (not sampled)."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def client_context_json(value: str | None) -> str:
    """``ClientContext`` arrives base64-encoded; the runtime gets compact JSON (safe as a header
    value). Already-decoded JSON is accepted too."""
    if not value:
        return ""
    for text in (value, _b64_text(value)):
        if text is None:
            continue
        try:
            return json.dumps(json.loads(text), separators=(",", ":"))
        except ValueError:
            continue
    return ""


def _b64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def cognito_json(identity: dict[str, object] | None) -> str:
    if not identity:
        return ""
    ident = identity.get("cognitoIdentityId", identity.get("cognito_identity_id"))
    pool = identity.get("cognitoIdentityPoolId", identity.get("cognito_identity_pool_id"))
    if ident is None and pool is None:
        return ""
    document = {"cognitoIdentityId": ident or "", "cognitoIdentityPoolId": pool or ""}
    return json.dumps(document, separators=(",", ":"))

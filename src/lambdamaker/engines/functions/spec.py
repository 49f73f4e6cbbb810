"""What the functions engine is told and what it answers: plain, serializable data.

``FunctionSpec`` is everything an execution environment needs to run one function version. It is
frozen and made of plain values (paths as strings) so that it crosses process boundaries as is:
to a zygote over a pipe now, to a Ray actor later (DESIGN.md, "Ray backend").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EncodedJson(bytes):
    """An invocation payload the platform encoded itself from Python values (an HTTP API's
    event): valid JSON by construction, so Invoke does not parse it again to check it."""

    __slots__ = ()


@dataclass(frozen=True)
class FunctionSpec:
    """One published (or ``$LATEST``) function version, as an environment runs it."""

    function_name: str
    version: str
    """``$LATEST`` or a published version number (``"1"``)."""
    function_arn: str
    """The unqualified ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME``)."""
    runtime: str
    """``python3.10``..``python3.13`` (run on the host interpreter) or ``provided.al2023``/``provided.al2``."""
    handler: str
    """``module.function`` for Python (``pkg/mod.fn`` allowed); ignored by ``provided.*``."""
    code_dir: str
    """The unpacked deployment package: ``LAMBDA_TASK_ROOT``. Read-only to the function."""
    code_sha256: str
    """Identifies the code; part of ``key`` so a code update never reuses an old snapshot."""
    memory_mb: int = 128
    timeout_s: int = 3
    ephemeral_storage_mb: int = 512
    environment: dict[str, str] = field(default_factory=dict)
    layer_dirs: tuple[str, ...] = ()
    """Unpacked layers in order; each one's ``python/`` goes on ``sys.path`` as ``/opt/python`` would."""
    preload: tuple[str, ...] = ()
    """Modules the runtime's zygote imports before forking (``numpy``, ``pandas``...)."""
    role: str = ""
    region: str = "us-east-1"
    account_id: str = "000000000000"
    architectures: tuple[str, ...] = ("x86_64",)
    log_group: str = ""
    """``/aws/lambda/<name>`` unless configured otherwise."""
    snapshot: bool = True
    """Fork environments from a per-version snapshot whose handler module is already imported."""
    endpoint_url: str = ""
    """Where boto3 inside the function reaches the platform (``AWS_ENDPOINT_URL``)."""
    credentials: tuple[str, str, str | None] | None = None
    """(access key id, secret, session token) the function's boto3 signs with."""

    @property
    def key(self) -> str:
        """Identity of the runnable artifact: environments of one key are interchangeable."""
        return f"{self.function_arn}:{self.version}:{self.code_sha256}"

    @property
    def qualified_arn(self) -> str:
        return f"{self.function_arn}:{self.version}"


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    """The event, as the JSON bytes the caller sent."""
    invoked_function_arn: str
    """The ARN the caller used, qualified or not (``context.invoked_function_arn``)."""
    client_context: str | None = None
    """Base64 JSON from ``ClientContext``, decoded into ``context.client_context``."""
    identity: dict[str, Any] | None = None
    tail_logs: bool = False
    """Return the last 4 KB of this invocation's log (``LogType=Tail``)."""
    trace_id: str | None = None


@dataclass
class InvokeResult:
    payload: bytes
    """The handler's return value as JSON bytes, or the error document."""
    function_error: str | None = None
    """``None``, ``"Unhandled"`` (handler/runtime error) or ``"Handled"`` (provided runtimes)."""
    log_tail: bytes = b""
    executed_version: str = "$LATEST"
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    max_memory_used_mb: int = 0
    init_duration_ms: float | None = None
    """Set on a cold start: the time to create the environment and run init."""
    cold_start: bool = False
    log_stream: str = ""

"""Loading a handler and running one invocation, with the Lambda Python runtime's semantics.

Mirrors awslambdaric (``bootstrap.py``, ``lambda_runtime_marshaller.py``): the handler string is
``module.function`` (``dir/mod.fn`` imports ``dir.mod``); import and lookup failures are
``Runtime.ImportModuleError`` / ``Runtime.UserCodeSyntaxError`` / ``Runtime.HandlerNotFound`` /
``Runtime.MalformedHandlerName`` / ``Runtime.BuiltInModuleConflict``; a handler exception is
``{errorMessage, errorType, requestId, stackTrace}`` with the runtime's own frames stripped and
files under the code directory named ``/var/task/...`` as on Lambda; a
``bytes`` result goes out as is, anything else as JSON (``Runtime.MarshalError`` if it cannot).

Deviation: ``decimal.Decimal`` results are written as JSON numbers through ``float``/``int``
(awslambdaric writes their exact digits through simplejson's ``RawJSON``).
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
    encode_basestring_ascii,
)
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))


class Fault(Exception):
    """A failure the runtime reports with one of its own error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def error_document(
    message: str, error_type: str, stack: list[str] | None, request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": stack or [],
    }


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {modname} as a handler module",
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", trace
        ) from None
    try:
        function: Callable[[Any, Any], Any] = getattr(module, fname)
        return function
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'"
        ) from None


# Lambda's code directory, as its frames name it: LAMBDA_TASK_ROOT is /var/task there.
_AWS_TASK_ROOT = "/var/task"


def _as_on_lambda(filename: str) -> str:
    """A frame's file as Lambda shows it: under the function's code directory (which is
    ``LAMBDA_TASK_ROOT`` here, a host path), the same relative path under ``/var/task``."""
    root = os.environ.get("LAMBDA_TASK_ROOT", "").rstrip("/")
    if root and filename.startswith(root + "/"):
        return _AWS_TASK_ROOT + filename[len(root) :]
    return filename


def user_error(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The document for an exception raised by user code (the runtime's frames removed; files
    under the code directory named as Lambda names them, ``/var/task/...``)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for i, frame in enumerate(frames):
        if not frame.filename.startswith(_HERE):
            frames = traceback.StackSummary.from_list(frames[i:])
            break
    shown = [
        traceback.FrameSummary(_as_on_lambda(f.filename), f.lineno, f.name, line=f.line)
        for f in frames
    ]
    stack = traceback.format_list(shown)
    return error_document(str(exc), type(exc).__name__, stack, request_id)


def _default(obj: Any) -> Any:
    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return float("nan")
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class Marshaller:
    """``json.dumps`` semantics (separators, NaN, circular-reference check), minus the Python
    layers of ``JSONEncoder.encode``: the C encoder is called directly (half the time)."""

    def __init__(self) -> None:
        # awslambdaric keeps ensure_ascii except on the python3.12 runtime.
        ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
        self._strings = encode_basestring_ascii if ascii_only else encode_basestring
        self._fallback = json.JSONEncoder(default=_default, ensure_ascii=ascii_only).encode

    def _encode(self, value: Any) -> str:
        if c_make_encoder is None:
            return self._fallback(value)
        encoder = c_make_encoder({}, _default, self._strings, None, ": ", ", ", False, False, True)
        return "".join(encoder(value, 0))

    def response(self, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        try:
            return self._encode(value).encode("utf-8")
        except Exception as exc:
            raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


_decode = json.JSONDecoder().decode


def decode_event(payload: bytes) -> Any:
    if not payload:
        return {}
    try:
        try:
            return _decode(payload.decode("utf-8"))
        except UnicodeDecodeError:
            return json.loads(payload)  # UTF-16/32, which json.loads detects
    except ValueError as exc:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None

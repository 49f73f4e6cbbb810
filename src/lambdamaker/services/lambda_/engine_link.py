"""The provider's handle on the functions engine (``engines.functions.engine.FunctionEngine``).

The engine is built in ``start()`` with its work directory under the data dir
(``<data>/functions/engine``), the platform's log store as its log sink (``platform.logs``), the
platform's meter, the account concurrency limit and keep-alive policy of the platform's
configuration, and the data dir as a directory functions must not see. If the
engine cannot be built (a host without what it needs), the control plane still works:
control-plane calls (retire, reserved and provisioned concurrency) become no-ops and Invoke
fails with ``ServiceException``.
"""

from __future__ import annotations

import logging
import platform as host
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.keepalive import FixedKeepAlive, HybridHistogramKeepAlive
from lambdamaker.engines.functions.keepalive_policy import KeepAlivePolicy
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult
from lambdamaker.services.lambda_.errors import LambdaServiceError

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.lambda")


class EngineLink:
    def __init__(self, platform: Platform, work_dir: Path, account_concurrency: int) -> None:
        self.platform = platform
        self.work_dir = work_dir
        self.account_concurrency = account_concurrency
        self.engine: Any = None
        self._sink = platform.logs

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        keepalive: KeepAlivePolicy = (
            HybridHistogramKeepAlive()
            if self.platform.config.keepalive == "hybrid"
            else FixedKeepAlive()
        )
        try:
            self.engine = FunctionEngine(
                work_dir=self.work_dir,
                logs=self._sink,
                meter=self.platform.meter,
                account_concurrency=self.account_concurrency,
                keepalive=keepalive,
                # Functions see their own code and layers, never the rest of the data dir (the
                # database, the credentials file, other functions' code).
                hidden_dirs=(str(self.platform.config.data_dir.resolve()),),
                function_nice=self.platform.config.function_nice,
            )
        except Exception:
            log.exception("lambda: the functions engine could not start; Invoke will fail")

    def close(self) -> None:
        if self.engine is not None:
            try:
                self.engine.close()
            finally:
                self.engine = None

    @property
    def available(self) -> bool:
        return self.engine is not None

    def invoke(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult:
        engine = self.engine
        if engine is None:
            raise LambdaServiceError(
                "The functions engine is not available on this lambdamaker server."
            )
        result: InvokeResult = engine.invoke(spec, request)
        if result.cold_start and spec.runtime.startswith("python") and result.log_stream:
            self._note_interpreter(spec, result)
        return result

    async def invoke_async(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult:
        """``invoke`` for a caller on the event loop (warm invocations never leave it)."""
        engine = self.engine
        if engine is None:
            raise LambdaServiceError(
                "The functions engine is not available on this lambdamaker server."
            )
        result: InvokeResult = await engine.invoke_async(spec, request)
        if result.cold_start and spec.runtime.startswith("python") and result.log_stream:
            self._note_interpreter(spec, result)
        return result

    def _note_interpreter(self, spec: FunctionSpec, result: InvokeResult) -> None:
        """Say in the function's log which interpreter runs it: python3.X runtimes run on the
        host's Python, whatever X is."""
        started = time.time() * 1000 - result.duration_ms - (result.init_duration_ms or 0.0)
        note = (
            f"[lambdamaker] runtime {spec.runtime} runs on the host's Python "
            f"{host.python_version()} ({sys.executable})\n"
        )
        try:
            self._sink.append(
                spec.log_group or f"/aws/lambda/{spec.function_name}",
                result.log_stream,
                [(int(started) - 1, note)],
            )
        except Exception:
            log.debug("could not write the interpreter note", exc_info=True)

    def retire(self, function_arn: str, version: str | None = None) -> None:
        if self.engine is not None:
            try:
                self.engine.retire(function_arn, version)
            except Exception:
                log.warning("retiring %s:%s failed", function_arn, version, exc_info=True)

    def set_reserved(self, function_arn: str, value: int | None) -> None:
        if self.engine is not None:
            self.engine.set_reserved_concurrency(function_arn, value)

    def set_provisioned(self, spec: FunctionSpec, count: int) -> None:
        if self.engine is not None:
            self.engine.set_provisioned(spec, count)

    def provisioned_status(self, spec: FunctionSpec, requested: int) -> tuple[int, int]:
        """(allocated, available) environments; all of them when there is no engine."""
        if self.engine is None:
            return requested, requested
        _, ready = self.engine.provisioned_status(spec)
        return int(ready), int(ready)

"""A Python execution environment, seen from the platform (implements ``Environment``).

One environment is one process forked from a template (``snapshot.KeyTemplate``), reached over
one socket (``ipc.Channel``). ``start`` takes a process (a spare when one is ready), sends
``START`` and waits for ``READY``; ``invoke`` sends ``INVOKE`` and waits for ``RESULT`` on the
calling thread, with the function's timeout as the socket timeout: no thread hop, no SQL, one
log-sink append per invocation (START, the handler's lines, END and REPORT together).

What Lambda reports, and how it is told apart here:

- handler exception or runtime fault: the environment answers ``ERROR`` with the document;
  ``function_error="Unhandled"``; the environment stays;
- timeout: no answer within ``timeout_s``; the process is killed, the document is
  ``Sandbox.Timedout`` "Task timed out after N.NN seconds"; the environment is replaced;
- out of memory: the process died by SIGKILL and its memory cgroup recorded an OOM kill (or the
  RSS watchdog killed it); ``Runtime.OutOfMemory`` "Runtime exited with error: signal: killed";
- any other exit: ``Runtime.ExitError`` with the exit status or signal, from the template that
  reaped the process.

Whatever the handler printed before a crash or timeout is still logged: the log files are memfds
the platform reads after the fact (``bootstrap/logcapture.py``).

``invoke_async`` is the same invocation awaited on an event loop (the gateway's): the request is
written and the reply awaited on the loop, with the timeout as a loop timer. Log lines, REPORT
and the result are built by the same code as ``invoke``'s; what may block (the failure paths,
which kill the process and ask the template how it ended, and the RSS watchdog) runs in a worker
thread. A cancelled wait kills the environment: its reply could otherwise answer the next request.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread

from lambdamaker.engines.functions import contract, launch
from lambdamaker.engines.functions.bootstrap import framing
from lambdamaker.engines.functions.bootstrap.logcapture import read_records
from lambdamaker.engines.functions.contract import (
    INIT_TIMEOUT_S,
    TAIL_BYTES,
    WATCHDOG_INTERVAL_S,
    error_document,
)
from lambdamaker.engines.functions.environment import LogSink
from lambdamaker.engines.functions.ipc import ChannelClosed, EnvironmentGone
from lambdamaker.engines.functions.limits import Cgroups, rss_kb
from lambdamaker.engines.functions.snapshot import KeyTemplate
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult
from lambdamaker.engines.functions.zygote import EnvProcess

LogEvents = list[tuple[int, str]]


def exit_message(status: int | None) -> str:
    """Lambda's words for an environment process that ended with wait ``status``."""
    if status is None:
        return contract.exit_message(None)
    if os.WIFSIGNALED(status):
        return contract.exit_message(-os.WTERMSIG(status), core_dumped=os.WCOREDUMP(status))
    return contract.exit_message(os.waitstatus_to_exitcode(status))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Failure:
    """How an invocation ended when the environment did not answer."""

    __slots__ = ("body", "error_type", "lines", "status")

    def __init__(self, error_type: str, body: bytes, lines: LogEvents, status: str) -> None:
        self.error_type = error_type
        self.body = body
        self.lines = lines
        self.status = status


class PythonEnvironment:
    def __init__(
        self,
        spec: FunctionSpec,
        *,
        template: KeyTemplate,
        logs: LogSink,
        cgroups: Cgroups,
        initialization_type: str = "on-demand",
    ) -> None:
        self.spec = spec
        self.env_id = uuid.uuid4().hex
        self.log_group = launch.log_group(spec)
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream = f"{day}/[{spec.version}]{self.env_id}"
        self.initialization_type = initialization_type
        self.report_init = initialization_type == "on-demand"
        """Whether the first REPORT carries Init Duration (not when started ahead of demand)."""
        self.pid: int | None = None
        self.from_snapshot = False
        self._template = template
        self._logs = logs
        self._cgroups = cgroups
        self._proc: EnvProcess | None = None
        self._init_ms: float | None = None
        self._init_error: bytes | None = None
        self._init_error_type = ""
        self._init_message = ""
        self._first = True
        self._dead = False
        self._stopped = False
        self._peak_kb = 0
        self._watchdog = not cgroups.available

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> float:
        t0 = time.perf_counter()
        ready = None
        crash_lines: LogEvents = []
        init_limit = max(INIT_TIMEOUT_S, float(self.spec.timeout_s))
        for attempt in range(3):
            try:
                proc, from_snapshot = self._template.take(fresh=attempt > 0)
            except ChannelClosed:  # retired meanwhile (code or configuration changed)
                raise EnvironmentGone(self.env_id) from None
            self._proc, self.pid, self.from_snapshot = proc, proc.pid, from_snapshot
            init_type = "snap-start" if from_snapshot else self.initialization_type
            try:
                proc.channel.send([framing.START, self.log_stream, init_type])
            except ChannelClosed:  # a spare that died while waiting: take another
                self._release_process()
                continue
            try:
                ready = proc.channel.recv(init_limit)
            except ChannelClosed:  # init ended the process (sys.exit, a crash), or...
                status = proc.exit_status()
                if status is None and proc.parent.dead:  # ...its template died under it
                    self._release_process()
                    continue
                crash_lines = self._leftover_lines(proc)
                oom = proc.cgroup is not None and proc.cgroup.oom_killed()
                kind = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
                self._fail_init(kind, exit_message(status))
            except TimeoutError:
                crash_lines = self._leftover_lines(proc)
                self._fail_init(
                    "Sandbox.Timedout", f"Task timed out after {init_limit:.2f} seconds"
                )
            break
        self._init_ms = (time.perf_counter() - t0) * 1000
        if ready is None and self._init_error is None:
            self._fail_init("Runtime.ExitError", exit_message(None))
        events = self._template.pending_init_logs() if self.from_snapshot else []
        events += crash_lines
        started = self._proc
        if ready is not None and started is not None:
            if ready[2]:
                events += read_records(started.read_records(ready[2]))
            if ready[1] is not None:
                doc = ready[1]
                self._init_error = json.dumps(doc).encode()
                self._init_error_type = str(doc.get("errorType", ""))
        if events:
            self._logs.append(self.log_group, self.log_stream, events)
        return self._init_ms

    def _fail_init(self, error_type: str, message: str) -> None:
        """Init failed in a way Lambda itself reports (the document names the request)."""
        self._init_error = b""
        self._init_error_type = error_type
        self._init_message = message
        if self._proc is not None:
            self._proc.kill()

    def alive(self) -> bool:
        if self._stopped or self._dead:
            return False
        if self._init_error is not None:
            return self._first  # until the first invoke has reported it
        proc = self._proc
        if proc is None or proc.channel.readable():  # an idle environment never writes: EOF
            self._dead = True
            return False
        return True

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = self._dead = True
        self._release_process()

    def _release_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.close()
        if proc.cgroup is not None:
            self._cgroups.release(proc.cgroup)
        self._template.released()

    # -- invoke ---------------------------------------------------------------------------------

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        if self._stopped:
            raise RuntimeError(f"environment {self.env_id} is stopped")
        spec = self.spec
        request_id = request.request_id
        now = _now_ms()
        events: LogEvents = [(now, f"START RequestId: {request_id} Version: {spec.version}\n")]
        t0 = time.perf_counter()
        failure: _Failure | None = None
        status = framing.OK
        body = b""
        proc = self._proc
        if self._init_error is not None:
            failure = self._init_failure(request_id)
        elif proc is None or self._dead:  # found dead while idle: nothing was delivered
            self._dead = True
            self._release_process()
            raise EnvironmentGone(self.env_id)
        else:
            message = _invoke_message(request, now + spec.timeout_s * 1000)
            try:
                proc.channel.send(message)
            except ChannelClosed:  # it died while idle: nothing was delivered
                self._dead = True
                self._release_process()
                raise EnvironmentGone(self.env_id) from None
            try:
                if self._watchdog:
                    reply = self._wait_watched(proc, t0)
                else:
                    reply = proc.channel.recv(spec.timeout_s)
                _, status, body, log_end, peak_kb = reply
                if peak_kb > self._peak_kb:
                    self._peak_kb = peak_kb
                if log_end:
                    events += read_records(proc.read_records(log_end))
            except TimeoutError:
                failure = self._timeout(request_id, proc)
            except ChannelClosed:
                failure = self._crash(request_id, proc, t0)
            except _OutOfMemory:
                failure = self._out_of_memory(request_id, proc, watchdog=True)
        duration_ms = (time.perf_counter() - t0) * 1000
        return self._finish(request, events, duration_ms, status, body, failure)

    async def invoke_async(self, request: InvokeRequest) -> InvokeResult:
        """``invoke`` awaited on the running event loop; same result, logs and failures."""
        proc = self._proc
        if self._init_error is not None or self._watchdog or self._stopped:
            return await anyio.to_thread.run_sync(self.invoke, request)
        spec = self.spec
        request_id = request.request_id
        now = _now_ms()
        events: LogEvents = [(now, f"START RequestId: {request_id} Version: {spec.version}\n")]
        t0 = time.perf_counter()
        if proc is None or self._dead:  # found dead while idle: nothing was delivered
            self._dead = True
            await anyio.to_thread.run_sync(self._release_process)
            raise EnvironmentGone(self.env_id)
        try:
            await proc.channel.send_async(_invoke_message(request, now + spec.timeout_s * 1000))
        except ChannelClosed:  # it died while idle: nothing was delivered
            self._dead = True
            await anyio.to_thread.run_sync(self._release_process)
            raise EnvironmentGone(self.env_id) from None
        except BaseException:  # cancelled mid-send: the environment holds part of a frame
            self._abandon()
            raise
        try:
            reply = await proc.channel.recv_async(spec.timeout_s)
        except TimeoutError:
            return await anyio.to_thread.run_sync(
                self._fail_async, request, events, t0, lambda: self._timeout(request_id, proc)
            )
        except ChannelClosed:
            return await anyio.to_thread.run_sync(
                self._fail_async, request, events, t0, lambda: self._crash(request_id, proc, t0)
            )
        except BaseException:  # cancelled: its reply would answer the next request
            self._abandon()
            raise
        _, status, body, log_end, peak_kb = reply
        if peak_kb > self._peak_kb:
            self._peak_kb = peak_kb
        if log_end:
            events += read_records(proc.read_records(log_end))
        duration_ms = (time.perf_counter() - t0) * 1000
        return self._finish(request, events, duration_ms, status, body, None)

    def _fail_async(
        self,
        request: InvokeRequest,
        events: LogEvents,
        t0: float,
        diagnose: Callable[[], _Failure],
    ) -> InvokeResult:
        """The end of a failed ``invoke_async``, in a worker thread (it kills, asks, reaps)."""
        failure = diagnose()
        duration_ms = (time.perf_counter() - t0) * 1000
        return self._finish(request, events, duration_ms, framing.OK, b"", failure)

    def _abandon(self) -> None:
        self._dead = True
        proc = self._proc
        if proc is not None:
            proc.kill()

    def _finish(
        self,
        request: InvokeRequest,
        events: LogEvents,
        duration_ms: float,
        status: int,
        body: bytes,
        failure: _Failure | None,
    ) -> InvokeResult:
        spec = self.spec
        request_id = request.request_id
        init_ms = None
        if self._first:
            self._first = False
            if self.report_init:
                init_ms = self._init_ms
        billed = math.ceil(duration_ms)
        used_mb = -(-self._peak_kb // 1024)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {spec.memory_mb} MB\t"
        )
        function_error = None
        if failure is not None:
            body, function_error = failure.body, "Unhandled"
            events += failure.lines
            if failure.error_type == "Runtime.OutOfMemory":
                used_mb = spec.memory_mb
            elif self._proc is not None and self._proc.cgroup is not None:
                used_mb = max(used_mb, min(spec.memory_mb, self._proc.cgroup.peak_mb()))
        elif status != framing.OK:
            function_error = "Unhandled"
        report += f"Max Memory Used: {used_mb} MB\t"
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if failure is not None and failure.status:
            report += failure.status + "\t"
        now = _now_ms()
        events.append((now, f"END RequestId: {request_id}\n"))
        events.append((now, report + "\n"))
        self._logs.append(self.log_group, self.log_stream, events)
        tail = b""
        if request.tail_logs:
            tail = "".join(m for _, m in events).encode("utf-8", "replace")[-TAIL_BYTES:]
        if failure is not None:
            self._dead = True
            self._release_process()
        return InvokeResult(
            payload=body,
            function_error=function_error,
            log_tail=tail,
            executed_version=spec.version,
            duration_ms=duration_ms,
            billed_duration_ms=billed,
            max_memory_used_mb=used_mb,
            init_duration_ms=init_ms,
            cold_start=init_ms is not None,
            log_stream=self.log_stream,
        )

    def _wait_watched(self, proc: EnvProcess, t0: float) -> list[Any]:
        """The RSS watchdog, for hosts without a writable memory cgroup."""
        limit_kb = self.spec.memory_mb * 1024
        deadline = t0 + self.spec.timeout_s
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError
            try:
                reply: list[Any] = proc.channel.recv(min(remaining, WATCHDOG_INTERVAL_S))
                return reply
            except TimeoutError:
                if rss_kb(proc.pid) > limit_kb:
                    proc.kill()
                    raise _OutOfMemory from None

    # -- failures -------------------------------------------------------------------------------

    def _leftover_lines(self, proc: EnvProcess | None) -> LogEvents:
        if proc is None:
            return []
        lines = read_records(proc.read_records(None))
        raw = proc.read_raw()
        if raw:
            now = _now_ms()
            lines += [(now, line + "\n") for line in raw.decode("utf-8", "replace").splitlines()]
        return lines

    def _init_failure(self, request_id: str) -> _Failure:
        assert self._init_error is not None
        error_type = self._init_error_type
        status = f"Status: error\tError Type: {error_type}"
        if self._init_error:  # the runtime's own document (ImportModuleError...)
            return _Failure(error_type, self._init_error, [], status)
        message = f"RequestId: {request_id} Error: {self._init_message}"
        lines = [(_now_ms(), f"{message}\n{error_type}\n")]
        return _Failure(error_type, error_document(error_type, message), lines, status)

    def _timeout(self, request_id: str, proc: EnvProcess) -> _Failure:
        proc.kill()
        seconds = f"{self.spec.timeout_s:.2f}"
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines = self._leftover_lines(proc)
        lines.append((_now_ms(), f"{stamp} {request_id} Task timed out after {seconds} seconds\n"))
        body = error_document(
            "Sandbox.Timedout",
            f"RequestId: {request_id} Error: Task timed out after {seconds} seconds",
        )
        return _Failure("Sandbox.Timedout", body, lines, "Status: timeout")

    def _crash(self, request_id: str, proc: EnvProcess | None, t0: float) -> _Failure:
        status = proc.exit_status() if proc is not None else None
        killed = status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        if proc is not None and killed and proc.cgroup is not None and proc.cgroup.oom_killed():
            return self._out_of_memory(request_id, proc, watchdog=False)
        message = exit_message(status)
        lines = self._leftover_lines(proc)
        lines.append((_now_ms(), f"RequestId: {request_id} Error: {message}\nRuntime.ExitError\n"))
        body = error_document("Runtime.ExitError", f"RequestId: {request_id} Error: {message}")
        return _Failure(
            "Runtime.ExitError", body, lines, "Status: error\tError Type: Runtime.ExitError"
        )

    def _out_of_memory(self, request_id: str, proc: EnvProcess, *, watchdog: bool) -> _Failure:
        message = "Runtime exited with error: signal: killed"
        lines = self._leftover_lines(proc)
        lines.append(
            (_now_ms(), f"RequestId: {request_id} Error: {message}\nRuntime.OutOfMemory\n")
        )
        body = error_document("Runtime.OutOfMemory", f"RequestId: {request_id} Error: {message}")
        return _Failure(
            "Runtime.OutOfMemory", body, lines, "Status: error\tError Type: Runtime.OutOfMemory"
        )


class _OutOfMemory(Exception):
    pass


def _invoke_message(request: InvokeRequest, deadline_ms: int) -> list[Any]:
    return [
        framing.INVOKE,
        request.request_id,
        request.payload,
        request.invoked_function_arn,
        deadline_ms,
        request.client_context,
        request.identity,
        request.trace_id,
    ]

"""Execution environments for ``provided.al2023`` and ``provided.al2``: a ``bootstrap`` executable
driven through the Lambda Runtime API.

One environment = one ``bootstrap`` process (in its own session, so a timeout or ``stop`` kills
everything it started) + one ``RuntimeAPIServer`` on an ephemeral port + one ``OutputPump``
thread that turns its stdout/stderr into log lines and notices its exit. The process is started
fresh (no zygote): a custom runtime can be any language, so there is nothing to pre-import.

How it maps to Lambda (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html):

- The bootstrap is ``LAMBDA_TASK_ROOT/bootstrap``, else ``/opt/bootstrap``: here the last layer
  (in ``spec.layer_dirs`` order) that has one, since later layers overwrite earlier ones in
  ``/opt``. None found, or not executable → the first invoke fails with
  ``Runtime.InvalidEntrypoint``, as on Lambda.
- Layers: see ``provided_bootstrap`` (``PATH``/``LD_LIBRARY_PATH``, ``LAMBDAMAKER_OPT_DIR``).
- ``start`` returns when the runtime first calls ``/next`` (that is the end of init, and the
  Init Duration), posts ``/init/error``, exits, or after 10 s (Lambda's init limit; a slower init
  carries on into the first invoke, whose timeout then covers it). Init failures are reported by
  the first invoke: the body the runtime posted to ``/init/error``, or ``Runtime.ExitError``.
- A handler error (``/error``) keeps the environment, as Lambda does; a timeout or an exit kills
  it (``alive()`` becomes False). Lambda's shapes: ``Sandbox.Timedout`` "Task timed out after
  N.NN seconds", ``Runtime.ExitError`` "Runtime exited with error: exit status 1".
- Billed Duration on the cold start includes Init Duration: Lambda bills the init of custom
  runtimes (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).

Memory: MemorySize is enforced by a memory (and pids) cgroup from ``limits.Cgroups`` when the
engine passes one and the host has it; otherwise by an RSS watchdog while an invocation runs
(every 50 ms, the bootstrap process only). Either way a kill past the limit is reported as
``Runtime.OutOfMemory``. ``Max Memory Used`` is the bootstrap process's peak RSS (``VmHWM``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdamaker.engines.functions.contract import (
    INIT_TIMEOUT_S,
    TAIL_BYTES,
    WATCHDOG_INTERVAL_S,
    error_document,
    exit_message,
)
from lambdamaker.engines.functions.environment import LogSink
from lambdamaker.engines.functions.limits import Cgroups, EnvCgroup, rss_kb
from lambdamaker.engines.functions.priority import DEFAULT_NICE, lower
from lambdamaker.engines.functions.process_output import LogEvents, OutputPump, exit_descriptor
from lambdamaker.engines.functions.provided_bootstrap import (
    client_context_json,
    cognito_json,
    find_bootstrap,
    runtime_environment,
    trace_id,
)
from lambdamaker.engines.functions.runtime_api import (
    Invocation,
    Outcome,
    RuntimeAPIServer,
)
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult

SANDBOX_EXEC = str(Path(__file__).parent / "bootstrap" / "sandbox_exec.py")


class ProvidedEnvironment:
    """One ``provided.*`` execution environment (implements ``environment.Environment``)."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        logs: LogSink,
        work_dir: Path,
        initialization_type: str = "on-demand",
        init_timeout_s: float = INIT_TIMEOUT_S,
        cgroups: Cgroups | None = None,
        sandbox: dict[str, Any] | None = None,
        nice: int = DEFAULT_NICE,
    ) -> None:
        """``initialization_type`` is ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand`` or
        ``provisioned-concurrency``); ``init_timeout_s`` bounds how long ``start`` waits;
        ``cgroups`` (the engine's) enforces MemorySize, else an RSS watchdog does.
        ``sandbox`` (``uid``, ``gid``, ``runtime``, ``hide``; from a root backend) runs the
        bootstrap in the same sandbox as Python environments: its own mount namespace with a
        private ``/tmp`` of EphemeralStorage, only its own code visible, the function's uid.
        ``nice``: steps below the platform that the bootstrap runs at (``priority``)."""
        self.spec = spec
        self._nice = nice
        self._sandbox = sandbox
        self._cgroups = cgroups
        self._cgroup: EnvCgroup | None = None
        self._watchdog = False
        self._oom = False
        self._init_timeout_s = init_timeout_s
        self.env_id = uuid.uuid4().hex
        self.log_group = spec.log_group or f"/aws/lambda/{spec.function_name}"
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream = f"{day}/[{spec.version}]{self.env_id}"
        self._logs = logs
        self._dir = Path(work_dir) / f"provided-{self.env_id}"
        self._initialization_type = initialization_type
        self._server: RuntimeAPIServer | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: OutputPump | None = None
        self._pidfd = -1
        self._lock = threading.Lock()
        self._inflight: Invocation | None = None
        self._collect: LogEvents | None = None
        self._started_ns = 0
        self._init_failure: tuple[str, str] | Outcome | None = None
        """(errorType, message) of a failure Lambda itself reports, or the runtime's posted
        ``/init/error``; reported by the first invoke."""
        self._init_reported = False
        self._init_end_ns = 0
        self._cold = True
        self._dead = False
        self._stopped = False
        self._peak_mb = 0
        self._status_fd = -1

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> float:
        self._started_ns = time.perf_counter_ns()
        tmp = self._dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        bootstrap, searched = find_bootstrap(self.spec)
        if bootstrap is None:
            message = f"Couldn't find valid bootstrap(s): [{' '.join(searched)}]"
            self._fail_init(("Runtime.InvalidEntrypoint", message))
            return self._init_ms()
        server = self._server = RuntimeAPIServer().start()
        env = runtime_environment(
            self.spec,
            runtime_api=server.address,
            log_group=self.log_group,
            log_stream=self.log_stream,
            tmp_dir="/tmp" if self._sandbox else str(tmp),
            initialization_type=self._initialization_type,
        )
        command = [str(bootstrap)]
        if self._sandbox is not None:
            params = {
                **self._sandbox,
                "tmp_mb": int(self.spec.ephemeral_storage_mb),
                "private": [self.spec.code_dir, *self.spec.layer_dirs],
                "cwd": self.spec.code_dir,
            }
            command = [sys.executable, "-I", SANDBOX_EXEC, json.dumps(params), *command]
        read_fd, write_fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                command,
                cwd=self.spec.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                close_fds=True,
                process_group=0,  # not a session of its own: see ``priority``
            )
            lower(self._proc.pid, self._nice)
        except OSError as exc:
            os.close(read_fd)
            reason = (exc.strerror or str(exc)).lower()
            self._fail_init(("Runtime.InvalidEntrypoint", f"fork/exec {bootstrap}: {reason}"))
            return self._init_ms()
        finally:
            os.close(write_fd)
        self._apply_limits(self._proc.pid)
        try:
            self._status_fd = os.open(f"/proc/{self._proc.pid}/status", os.O_RDONLY)
        except OSError:
            pass
        self._pidfd = exit_descriptor(self._proc)
        self._pump = OutputPump(
            read_fd,
            self._pidfd,
            on_lines=self._on_lines,
            on_exit=self._on_exit,
            name=f"provided-{self.spec.function_name}",
        ).start()
        server.wait_initialized(self._init_timeout_s)
        if server.init_error is not None:
            self._fail_init(server.init_error)
        return self._init_ms()

    def alive(self) -> bool:
        if self._stopped:
            return False
        if self._init_failure is not None:
            return not self._init_reported  # alive until the first invoke reports the failure
        return not self._dead

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = self._dead = True
        self._kill()
        if self._pump is not None:
            self._pump.join(timeout=5)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._pump is not None:
            self._pump.close()
        with self._lock:
            for fd in (self._pidfd, self._status_fd):
                if fd >= 0:
                    os.close(fd)
            self._pidfd = self._status_fd = -1
        if self._server is not None:
            self._server.close()
        if self._cgroup is not None and self._cgroups is not None:
            self._cgroups.release(self._cgroup)
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- invoke -----------------------------------------------------------------------------------

    def invoke(self, request: InvokeRequest) -> InvokeResult:
        if self._stopped:
            raise RuntimeError(f"environment {self.env_id} is stopped")
        request_id = request.request_id
        t0 = time.perf_counter_ns()
        start = [(_now_ms(), f"START RequestId: {request_id} Version: {self.spec.version}\n")]
        self._logs.append(self.log_group, self.log_stream, list(start))  # the sink owns its list
        invocation = Invocation(
            request_id=request_id,
            payload=request.payload,
            invoked_function_arn=request.invoked_function_arn,
            deadline_ms=_now_ms() + self.spec.timeout_s * 1000,
            trace_id=request.trace_id or trace_id(),
            client_context=client_context_json(request.client_context),
            cognito_identity=cognito_json(request.identity),
        )
        extra: LogEvents = []
        status = ""
        with self._lock:
            failure = self._init_failure if not self._init_reported else None
            dead = self._dead or failure is not None
            if not dead:
                self._inflight = invocation
                self._collect = list(start)
        if failure is not None:
            outcome = self._report_init_failure(request_id, failure, extra)
            status = f"Status: error\tError Type: {outcome.error_type}"
        elif dead:
            outcome = self._exit_outcome(request_id)
        else:
            assert self._server is not None
            self._server.submit(invocation)
            remaining = self.spec.timeout_s - (time.perf_counter_ns() - t0) / 1e9
            if not self._wait(invocation, remaining):
                self._time_out(invocation, extra)
            assert invocation.outcome is not None
            outcome = invocation.outcome
            if outcome.reason == "init_error":  # a slow init failed while this invoke waited
                with self._lock:
                    self._dead = True
                self._kill()
        duration_ms = (time.perf_counter_ns() - t0) / 1e6
        if outcome.reason == "timeout":
            status = "Status: timeout"
        elif outcome.reason == "exit":
            status = f"Status: error\tError Type: {outcome.error_type}"
            extra.append((_now_ms(), f"{_error_line(outcome)}\n{outcome.error_type}\n"))
        lines = self._finish_lines(start)
        cold = self._cold
        self._cold = False
        init_ms = self._init_ms() if cold else None
        memory_mb = self._max_memory_mb()
        billed = math.ceil(duration_ms + (init_ms or 0.0))
        report = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {billed} ms",
            f"Memory Size: {self.spec.memory_mb} MB",
            f"Max Memory Used: {memory_mb} MB",
        ]
        if init_ms is not None:
            report.append(f"Init Duration: {init_ms:.2f} ms")
        if status:
            report.append(status)
        now = _now_ms()
        tail = [*extra, (now, f"END RequestId: {request_id}\n"), (now, "\t".join(report) + "\t\n")]
        self._logs.append(self.log_group, self.log_stream, list(tail))
        log_tail = b""
        if request.tail_logs:
            log_tail = "".join(m for _, m in lines + tail).encode()[-TAIL_BYTES:]
        return InvokeResult(
            payload=outcome.body,
            function_error="Unhandled" if outcome.error_type is not None else None,
            log_tail=log_tail,
            executed_version=self.spec.version,
            duration_ms=duration_ms,
            billed_duration_ms=billed,
            max_memory_used_mb=memory_mb,
            init_duration_ms=init_ms,
            cold_start=cold,
            log_stream=self.log_stream,
        )

    def _time_out(self, invocation: Invocation, extra: LogEvents) -> None:
        seconds = f"{self.spec.timeout_s:.2f}"
        message = (
            f"RequestId: {invocation.request_id} Error: Task timed out after {seconds} seconds"
        )
        outcome = Outcome(
            error_document("Sandbox.Timedout", message), "Sandbox.Timedout", "timeout"
        )
        assert self._server is not None
        if self._server.complete(invocation, outcome):
            # Lambda's log line for it: "<ISO time> <request id> Task timed out after N.NN seconds"
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            text = f"{stamp} {invocation.request_id} Task timed out after {seconds} seconds\n"
            extra.append((_now_ms(), text))
            with self._lock:
                self._dead = True
            self._kill()

    def _report_init_failure(
        self, request_id: str, failure: tuple[str, str] | Outcome, extra: LogEvents
    ) -> Outcome:
        self._init_reported = True
        with self._lock:
            self._dead = True
        self._kill()
        if isinstance(failure, Outcome):
            return failure  # the runtime's own /init/error body, as posted
        error_type, message = failure
        outcome = Outcome(
            error_document(error_type, f"RequestId: {request_id} Error: {message}"),
            error_type,
            "init_error",
        )
        extra.append((_now_ms(), f"{_error_line(outcome)}\n{error_type}\n"))
        return outcome

    def _finish_lines(self, start: LogEvents) -> LogEvents:
        """Every line of the invocation in flight, once the runtime's output is drained."""
        if self._pump is None:
            return list(start)
        with self._pump.lock:
            self._pump.drain_locked(flush_partial=True)
            with self._lock:
                lines, self._collect, self._inflight = self._collect, None, None
        return lines if lines is not None else list(start)

    # -- process events (pump thread) -------------------------------------------------------------

    def _on_lines(self, events: LogEvents) -> None:
        collect = self._collect
        if collect is not None:
            collect.extend(events)
        self._logs.append(self.log_group, self.log_stream, events)  # the sink owns ``events``

    def _on_exit(self) -> None:
        assert self._proc is not None and self._server is not None
        self._proc.wait()
        self._kill()  # whatever the runtime left running in its session
        with self._lock:
            self._dead = True
            invocation = self._inflight
        server = self._server
        server.runtime_gone()
        if invocation is not None:
            server.complete(invocation, self._exit_outcome(invocation.request_id))
        elif not server.initialized:
            self._fail_init(server.init_error or (self._exit_error_type(), self._exit_message()))

    def _exit_outcome(self, request_id: str) -> Outcome:
        message = f"RequestId: {request_id} Error: {self._exit_message()}"
        error_type = self._exit_error_type()
        return Outcome(error_document(error_type, message), error_type, "exit")

    def _exit_error_type(self) -> str:
        oom = self._oom or (self._cgroup is not None and self._cgroup.oom_killed())
        return "Runtime.OutOfMemory" if oom else "Runtime.ExitError"

    def _exit_message(self) -> str:
        code = self._proc.returncode if self._proc is not None else None
        return exit_message(0 if code is None else code)

    # -- helpers ----------------------------------------------------------------------------------

    def _apply_limits(self, pid: int) -> None:
        """Put the bootstrap in its own memory (+pids) cgroup, or fall back to the watchdog.

        The move happens just after exec: pages the runtime touches in its first moments stay
        charged to the platform's cgroup (v1 charges the first toucher), and a v1 move can take
        5-30 ms (an RCU grace period; see ``limits``), which counts in Init Duration."""
        cgroups = self._cgroups
        if cgroups is not None and cgroups.available:
            cgroup = None
            try:
                cgroup = cgroups.create(f"provided-{self.env_id}", self.spec.memory_mb)
                if cgroup is not None:
                    cgroup.attach(pid)
                    self._cgroup = cgroup
                    return
            except OSError:
                if cgroup is not None:
                    cgroups.release(cgroup)
        self._watchdog = True

    def _wait(self, invocation: Invocation, timeout_s: float) -> bool:
        """Wait for ``invocation`` to complete; with the watchdog, also kill the runtime when
        its RSS passes MemorySize (its exit then completes the invocation)."""
        proc = self._proc
        if not self._watchdog or proc is None:
            return invocation.done.wait(max(0.0, timeout_s))
        deadline = time.monotonic() + timeout_s
        limit_kb = self.spec.memory_mb * 1024
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return invocation.done.is_set()
            if invocation.done.wait(min(left, WATCHDOG_INTERVAL_S)):
                return True
            if rss_kb(proc.pid) > limit_kb:
                self._oom = True
                self._kill()
                return invocation.done.wait(max(0.0, deadline - time.monotonic()))

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # process_group=0: the group is the bootstrap's
        except (ProcessLookupError, PermissionError):
            pass
        if self._cgroup is not None:
            self._cgroup.kill_all()  # and whatever left the group but not the cgroup

    def _init_ms(self) -> float:
        """Init Duration: from spawn to the runtime's first ``/next``, or to the failure of init;
        for an init still running, the time so far."""
        server = self._server
        if server is not None and server.initialized:
            end = server.initialized_ns
        else:
            end = self._init_end_ns or time.perf_counter_ns()
        return (end - self._started_ns) / 1e6

    def _fail_init(self, failure: tuple[str, str] | Outcome) -> None:
        if self._init_failure is None:
            self._init_end_ns = time.perf_counter_ns()
            self._init_failure = failure

    def _max_memory_mb(self) -> int:
        """Peak RSS of the bootstrap process so far (``VmHWM``), in MB rounded up. The status
        file stays open and is re-read with ``pread``: 7 µs per invoke instead of 21."""
        with self._lock:  # stop() closes the descriptor under the same lock
            if self._status_fd < 0:
                return self._peak_mb
            try:
                data = os.pread(self._status_fd, 8192, 0)
                at = data.find(b"VmHWM:")
                if at >= 0:
                    kb = int(data[at + 6 : data.index(b"kB", at)])
                    self._peak_mb = max(self._peak_mb, math.ceil(kb / 1024))
            except (OSError, ValueError):
                pass  # the process is gone: keep the last reading
            return self._peak_mb


def _error_line(outcome: Outcome) -> str:
    try:
        return str(json.loads(outcome.body)["errorMessage"])
    except (ValueError, KeyError, TypeError):
        return outcome.body.decode("utf-8", "replace")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000

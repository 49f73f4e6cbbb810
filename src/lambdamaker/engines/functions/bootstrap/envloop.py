"""The life of one execution environment process, from fork to exit.

After the fork (done by ``template.py``), in order: leave the template's descriptors and signal
handlers behind, take the log files, enter the sandbox, die with the parent, then wait for
``START``. ``START`` carries what differs per environment (log stream, initialization type);
on it the environment re-seeds, runs init (an environment forked from a zygote imports the
handler module now) or the after-restore hooks (one forked from a snapshot), and answers
``READY``. A process waiting for ``START`` is a *spare*: forked, sandboxed and placed in its
cgroup ahead of demand, so a cold start costs one round trip.

Then the invoke loop: one ``INVOKE`` frame in, one ``RESULT`` frame out, nothing else on the
warm path (the request id goes to the logging filter, the trace id to ``_X_AMZN_TRACE_ID``).
``SystemExit`` from a handler ends the process with its code, as the Lambda runtime does; the
platform reports ``Runtime.ExitError``. Init errors are answered in ``READY`` and the process
exits: the next invocation gets a fresh environment that runs init again, as on Lambda.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
from typing import Any

from . import framing, logcapture, restore, sandbox
from .context import LambdaContext
from .handler import Fault, Marshaller, decode_event, error_document, load_handler, user_error


class Runtime:
    """Process-wide state of an environment (or of a snapshot, which children inherit)."""

    log: logcapture.RecordLog | None = None
    writers: tuple[logcapture.LineWriter, logcapture.LineWriter] | None = None
    handler: Any = None
    init_error: dict[str, Any] | None = None
    sandboxed = False
    """A snapshot entered the sandbox: its children make their own /tmp (``enter_from_user``)."""
    rebind: list[str] = []
    """What of the snapshot's view lives under /tmp and must be bound again in a child."""
    tmp_mb = 512
    """The snapshot's /tmp quota, which its children repeat."""


def setup_process(control_fds: list[int], log_fd: int, raw_fd: int) -> None:
    """First steps of any child of a template: descriptors, signals, process group."""
    for fd in control_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.set_inheritable(log_fd, False)  # a handler's subprocesses get fds 1/2, not the records
    # Its own process group (killed as one), in the platform's session: see ``priority``.
    os.setpgid(0, 0)
    sandbox.drop_controlling_terminal()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(raw_fd, 1)
    os.dup2(raw_fd, 2)
    os.close(raw_fd)
    if Runtime.log is None:
        Runtime.log = logcapture.RecordLog(log_fd, 1)
        Runtime.writers = logcapture.install(Runtime.log)
    else:  # a snapshot's child: same writers, its own files
        old = Runtime.log.fd
        Runtime.log.reattach(log_fd, 1)
        if old != log_fd:
            try:
                os.close(old)
            except OSError:
                pass


def die_with_parent(expected_parent: int) -> None:
    sandbox.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != expected_parent:
        os._exit(1)


def apply_params(params: dict[str, Any]) -> None:
    """The function's environment variables, working directory and import path."""
    os.environ.clear()
    os.environ.update(params["environ"])
    try:
        os.chdir(params["cwd"])
    except OSError:
        pass
    prefix = [p for p in params["sys_path"] if p not in sys.path]
    sys.path[:0] = prefix
    # Modules that failed to import before (in the zygote) must not stay cached as missing.
    import importlib

    importlib.invalidate_caches()


def run_init(handler_name: str) -> None:
    """Import the handler module and find the function; failures become ``init_error``."""
    try:
        Runtime.handler = load_handler(handler_name)
    except Fault as fault:
        Runtime.init_error = error_document(fault.message, fault.error_type, fault.trace)
    except Exception as exc:
        Runtime.init_error = user_error(exc)
    if Runtime.init_error is not None and Runtime.log is not None:
        Runtime.log.write(logcapture.error_lines(Runtime.init_error))
    _finish_output()


def _finish_output() -> None:
    if Runtime.writers is not None:
        for writer in Runtime.writers:
            writer.finish()
    if Runtime.log is not None:
        Runtime.log.collect_raw()
        Runtime.log.end()


def environment_main(
    sock_fd: int, *, parent: int, from_snapshot: bool, params: dict[str, Any] | None
) -> None:
    """Runs in the forked child until it exits; never returns."""
    code = 0
    try:
        code = _environment(sock_fd, parent, from_snapshot, params)
    except SystemExit as exc:  # sys.exit() at init: the runtime exits with that status
        code = _exit_code(exc)
    except BaseException:  # the platform sees the exit status and reports Runtime.ExitError
        import traceback

        os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        code = 70
    finally:
        try:
            _finish_output()
        except Exception:
            pass
        os._exit(code)


def _environment(
    sock_fd: int, parent: int, from_snapshot: bool, params: dict[str, Any] | None
) -> int:
    sock = socket.socket(fileno=sock_fd)
    sock.set_inheritable(False)
    if from_snapshot:
        if os.geteuid() != 0 and Runtime.sandboxed:
            sandbox.enter_from_user(tmp_mb=Runtime.tmp_mb, rebind=Runtime.rebind)
    else:
        assert params is not None
        if os.geteuid() == 0 and params["uid"] is not None:
            sandbox.enter_from_root(
                uid=params["uid"],
                gid=params["gid"],
                tmp_mb=params["tmp_mb"],
                runtime=params["runtime"],
                private=params["private"],
                hide=params["hide"],
            )
        apply_params(params)
    die_with_parent(parent)

    reader = framing.FrameReader(sock, wait_readable=True)
    start = reader.read()
    if start is None or start[0] != framing.START:
        return 0
    environ = os.environ
    environ["AWS_LAMBDA_LOG_STREAM_NAME"] = start[1]
    environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = start[2]
    LambdaContext.configure()
    restore.reseed_after_fork()
    assert Runtime.log is not None
    Runtime.log.begin()
    if from_snapshot:
        try:
            restore.run_after_restore()
        except Exception as exc:
            doc = user_error(exc)
            doc["errorType"] = "Runtime.AfterRestoreError"
            Runtime.init_error = doc
            Runtime.log.write(logcapture.error_lines(doc))
        _finish_output()
    else:
        assert params is not None
        run_init(params["handler"])
    framing.send_frame(sock, [framing.READY, Runtime.init_error, Runtime.log.offset])
    if Runtime.init_error is not None:
        return 1
    return serve(sock, reader)


def serve(sock: socket.socket, reader: framing.FrameReader) -> int:
    log = Runtime.log
    assert log is not None and Runtime.writers is not None
    out, err = Runtime.writers
    handler = Runtime.handler
    marshal = Marshaller().response
    send = framing.send_frame
    getrusage = resource.getrusage
    self_usage = resource.RUSAGE_SELF
    environ = os.environ
    set_request_id = logcapture.set_request_id
    traced = "_X_AMZN_TRACE_ID" in environ
    while True:
        msg = reader.read()
        if msg is None:
            return 0
        if msg[0] != framing.INVOKE:
            continue
        _, request_id, payload, arn, deadline_ms, client_context, identity, trace_id = msg
        log.begin()
        set_request_id(request_id)
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id
            traced = True
        elif traced:
            environ.pop("_X_AMZN_TRACE_ID", None)
            traced = False
        status = framing.OK
        try:
            context = LambdaContext(request_id, arn, deadline_ms, client_context, identity)
            body = marshal(handler(decode_event(payload), context))
        except Fault as fault:
            status, body = (
                framing.ERROR,
                _error_body(
                    error_document(fault.message, fault.error_type, fault.trace, request_id)
                ),
            )
        except SystemExit as exc:
            _finish_output()
            os._exit(_exit_code(exc))
        except Exception as exc:
            status, body = framing.ERROR, _error_body(user_error(exc, request_id))
        if out._partial or err._partial:
            out.finish()
            err.finish()
        log.collect_raw()
        if log.dropped:
            log.end()
        send(sock, [framing.RESULT, status, body, log.offset, getrusage(self_usage).ru_maxrss])


def _error_body(doc: dict[str, Any]) -> bytes:
    log = Runtime.log
    if log is not None:
        log.write(logcapture.error_lines(doc))
    return json.dumps(doc).encode()


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1

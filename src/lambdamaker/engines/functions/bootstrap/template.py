"""Template processes: zygotes and snapshots, which fork on request and do nothing else.

A template is single-threaded and blocks on its control channel (a ``SOCK_SEQPACKET`` pair to
the platform). Requests:

- ``fork_env`` (fds: environment socket, record memfd, raw memfd): fork an environment; answer
  its pid. The child closes every template descriptor before anything else, so user code can
  never talk to a template (the base zygote runs as root).
- ``fork_template`` (fds: a new control socket, record memfd, raw memfd): fork a child
  template: a *preload zygote* (imports ``spec.preload`` modules) or a *snapshot* (enters the
  function's sandbox, imports the handler module, runs before-snapshot hooks). The child
  answers ``ready`` on its own control channel. Zygotes only.
- ``wait``: the exit status of a child (the platform cannot ``waitpid`` a grandchild); answered
  from what the SIGCHLD handler already reaped, else by polling for up to ``timeout``.

A template exits when its control channel closes, which happens when the platform exits for any
reason (the platform never shares that descriptor); its children have ``PDEATHSIG=SIGKILL`` set
towards it, so a whole tree goes with its root. Templates are also child subreapers, so a
daemon a handler leaves behind is reaped here rather than by the host's init.

Template memory is frozen with ``gc.freeze()`` before serving, so garbage collection in forked
children does not touch (and copy) the pages they share with the template.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import socket
import sys
import time
from typing import Any

from . import envloop, framing, restore, sandbox, sockets

_reaped: dict[int, int] = {}
_REAPED_LIMIT = 4096


def _reap(_signum: int, _frame: Any) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if len(_reaped) >= _REAPED_LIMIT:
            _reaped.pop(next(iter(_reaped)))
        _reaped[pid] = status


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        if pid in _reaped:
            return _reaped.pop(pid)
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return _reaped.pop(pid, None)
        if got == pid:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.001)


class Template:
    def __init__(self, control: socket.socket, role: str, runtime_paths: list[str]) -> None:
        self.control = control
        self.role = role
        """``zygote`` or ``snapshot``."""
        self.runtime_paths = runtime_paths
        self.params: dict[str, Any] | None = None
        """A snapshot's launch parameters (its children inherit the applied state)."""

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, _reap)
        try:
            sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
        except OSError:
            pass
        gc.collect()
        gc.freeze()
        while True:
            try:
                msg, fds = framing.recv_control(self.control)
            except OSError:
                os._exit(0)
            if msg is None:
                os._exit(0)
            try:
                reply = self._handle(msg, fds)
            except Exception as exc:  # answer rather than die: the platform decides
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            framing.send_control(self.control, reply)

    def _handle(self, msg: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        op = msg["op"]
        if op == "fork_env":
            sock_fd, log_fd, raw_fd = fds
            return {"pid": self._fork_env(sock_fd, log_fd, raw_fd, msg.get("params"))}
        if op == "fork_template":
            control_fd, log_fd, raw_fd = fds
            return {"pid": self._fork_template(control_fd, log_fd, raw_fd, msg)}
        if op == "wait":
            return {"status": _wait(int(msg["pid"]), float(msg.get("timeout", 2.0)))}
        if op == "ping":
            return {"pid": os.getpid()}
        return {"error": f"unknown op {op!r}"}

    def _inherited_fds(self) -> list[int]:
        """In a child: the template's own descriptors, detached so nothing closes them twice."""
        return [self.control.detach()]

    def _fork_env(
        self, sock_fd: int, log_fd: int, raw_fd: int, params: dict[str, Any] | None
    ) -> int:
        parent = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        try:
            envloop.setup_process(self._inherited_fds(), log_fd, raw_fd)
            if params is not None:
                params = {**params, "runtime": self.runtime_paths}
            envloop.environment_main(
                sock_fd, parent=parent, from_snapshot=self.role == "snapshot", params=params
            )
        finally:
            os._exit(71)

    def _fork_template(self, control_fd: int, log_fd: int, raw_fd: int, msg: dict[str, Any]) -> int:
        if self.role != "zygote":
            raise ValueError("only zygotes fork templates")
        parent = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        try:
            envloop.setup_process(self._inherited_fds(), log_fd, raw_fd)
            control = socket.socket(fileno=control_fd)
            if msg["role"] == "zygote":
                _become_zygote(control, parent, msg["preload"], self.runtime_paths)
            else:
                _become_snapshot(control, parent, msg["params"], self.runtime_paths)
        finally:
            os._exit(72)


def _become_zygote(
    control: socket.socket, parent: int, preload: list[str], runtime_paths: list[str]
) -> None:
    sandbox.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    failed: dict[str, str] = {}
    for name in preload:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # a bad preload must not take the zygote down
            failed[name] = f"{type(exc).__name__}: {exc}"
    # Before the first fork: no child may share a connection an import opened (sockets.py).
    sockets.neutralize_inherited_connections(keep=frozenset({control.fileno()}))
    framing.send_control(control, {"ready": True, "pid": os.getpid(), "failed": failed})
    Template(control, "zygote", runtime_paths).serve()


def _become_snapshot(
    control: socket.socket, parent: int, params: dict[str, Any], runtime_paths: list[str]
) -> None:
    runtime = envloop.Runtime
    if os.geteuid() == 0 and params["uid"] is not None:
        runtime.rebind = sandbox.enter_from_root(
            uid=params["uid"],
            gid=params["gid"],
            tmp_mb=params["tmp_mb"],
            runtime=runtime_paths,
            private=params["private"],
            hide=params["hide"],
        )
        runtime.sandboxed = bool(params.get("child_userns", True))
    runtime.tmp_mb = params["tmp_mb"]
    sandbox.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    envloop.apply_params(params)
    assert runtime.log is not None
    envloop.run_init(params["handler"])
    if runtime.init_error is None:
        try:
            restore.run_before_snapshot()
        except Exception as exc:
            doc = envloop.user_error(exc)
            doc["errorType"] = "Runtime.BeforeSnapshotError"
            runtime.init_error = doc
    if runtime.init_error is None:
        # Once, before the first fork: environments must not share a connection init opened
        # (a pooled boto3 connection, say); they reconnect instead (sockets.py).
        sockets.neutralize_inherited_connections(keep=frozenset({control.fileno()}))
    reply = {"ready": True, "pid": os.getpid(), "error": runtime.init_error}
    reply["log_end"] = runtime.log.offset
    framing.send_control(control, reply)
    if runtime.init_error is not None:
        os._exit(1)
    Template(control, "snapshot", runtime_paths).serve()


def runtime_paths() -> list[str]:
    """What an environment must still read once masks hide the host: the interpreter, its
    site-packages and the directories on the zygote's import path."""
    candidates = [sys.base_prefix, sys.prefix, *sys.path]
    found = sorted({os.path.realpath(p) for p in candidates if p and os.path.isdir(p)})
    paths: list[str] = []
    for path in found:
        if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths):
            paths.append(path)
    return paths

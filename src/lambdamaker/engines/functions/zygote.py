"""Template processes seen from the platform: the base zygote, preload zygotes, and what they
fork.

The base zygote is the only process the platform starts with ``exec``: the host interpreter,
isolated (``-I``: no environment variables, user site or current directory on ``sys.path``),
loading ``bootstrap/`` under a private package name. Everything else is forked from it:
preload zygotes (one per distinct ``spec.preload``, which imported those modules), snapshots
(``snapshot.py``), and environments. The platform is multi-threaded and never forks itself.

``TemplateProcess`` is a handle on one template: its control channel (requests are
serialized; the template is single-threaded anyway) and its pid. ``EnvProcess`` is a handle on
one forked environment: its socket, its two log memfds, its cgroup.

A template that dies (killed, or its parent died) makes every request fail with
``ChannelClosed``; ``Zygotes`` starts a new base zygote on the next request, and whoever held a
dead template (``snapshot.KeyTemplate``) builds a new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdamaker.engines.functions.ipc import (
    Channel,
    ChannelClosed,
    ControlChannel,
    control_pair,
    memfd,
    stream_pair,
)
from lambdamaker.engines.functions.limits import EnvCgroup
from lambdamaker.engines.functions.priority import DEFAULT_NICE, lower

BOOTSTRAP_DIR = str(Path(__file__).resolve().parent / "bootstrap")
_LOADER = (
    "import importlib.util, sys\n"
    "d = sys.argv[1]\n"
    "s = importlib.util.spec_from_file_location("
    "'_lambdamaker_bootstrap', d + '/__init__.py', submodule_search_locations=[d])\n"
    "m = importlib.util.module_from_spec(s)\n"
    "sys.modules[s.name] = m\n"
    "s.loader.exec_module(m)\n"
    "import _lambdamaker_bootstrap.main as z\n"
    "z.main(sys.argv[2:])\n"
)
START_TIMEOUT_S = 60.0
log = logging.getLogger("lambdamaker.functions")


@dataclass
class EnvProcess:
    """One forked environment process, from the platform's side."""

    pid: int
    channel: Channel
    log_fd: int
    raw_fd: int
    parent: TemplateProcess
    pidfd: int = -1
    """Signals go through a pidfd: pids are reused (``pid_max`` is 32768 here), and the
    template, not the platform, reaps the process."""
    cgroup: EnvCgroup | None = None
    closed: bool = False

    def kill(self) -> None:
        if self.cgroup is None and not _exited(self.pidfd):
            # Without a cgroup, the process group is how a handler's subprocesses go too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        _pidfd_kill(self.pidfd)
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def exit_status(self, timeout: float = 2.0) -> int | None:
        """The raw wait status, asked of the parent template (None if unknown)."""
        try:
            reply = self.parent.control.request(
                {"op": "wait", "pid": self.pid, "timeout": timeout}, timeout=timeout + 5
            )
        except ChannelClosed:
            self.parent.dead = True  # and with it, this process (PDEATHSIG)
            return None
        except (OSError, RuntimeError):
            return None
        status = reply.get("status")
        return int(status) if status is not None else None

    def read_records(self, upto: int | None = None) -> bytes:
        """``upto`` bytes of the record file, or all of it (after a crash)."""
        try:
            if upto is None:
                upto = os.fstat(self.log_fd).st_size
            return os.pread(self.log_fd, upto, 0) if upto else b""
        except OSError:
            return b""

    def read_raw(self) -> bytes:
        try:
            size = os.fstat(self.raw_fd).st_size
            return os.pread(self.raw_fd, size, 0) if size else b""
        except OSError:
            return b""

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.channel.close()
        for fd in (self.log_fd, self.raw_fd, self.pidfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


def _open_pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except OSError:  # already gone
        return -1


def _exited(pidfd: int) -> bool:
    if pidfd < 0:
        return True
    ready, _, _ = select.select([pidfd], [], [], 0)
    return bool(ready)


def _pidfd_kill(pidfd: int) -> None:
    if pidfd >= 0:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)


@dataclass
class TemplateProcess:
    """A zygote or snapshot: forks on request."""

    pid: int
    control: ControlChannel
    role: str
    info: dict[str, Any] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None
    pidfd: int = -1
    dead: bool = False

    def fork_env(self, params: dict[str, Any] | None) -> EnvProcess:
        ours, theirs = stream_pair()
        log_fd, raw_fd = memfd("lambdamaker-log"), memfd("lambdamaker-out")
        try:
            reply = self.control.request(
                {"op": "fork_env", "params": params}, (theirs.fileno(), log_fd, raw_fd)
            )
        except BaseException:
            ours.close()
            for fd in (log_fd, raw_fd):
                os.close(fd)
            self.dead = True
            raise
        finally:
            theirs.close()
        pid = int(reply["pid"])
        return EnvProcess(pid, Channel(ours), log_fd, raw_fd, self, _open_pidfd(pid))

    def fork_template(
        self, role: str, *, preload: list[str] | None = None, params: dict[str, Any] | None = None
    ) -> tuple[TemplateProcess, int]:
        """A child template (not ready yet: ``await_ready``) and its record memfd."""
        ours, theirs = control_pair()
        log_fd, raw_fd = memfd("lambdamaker-init-log"), memfd("lambdamaker-init-out")
        try:
            reply = self.control.request(
                {"op": "fork_template", "role": role, "preload": preload or [], "params": params},
                (theirs.fileno(), log_fd, raw_fd),
            )
        except BaseException:
            ours.close()
            os.close(log_fd)
            raise
        finally:
            theirs.close()
            os.close(raw_fd)
        pid = int(reply["pid"])
        child = TemplateProcess(pid, ControlChannel(ours), role, pidfd=_open_pidfd(pid))
        return child, log_fd

    def await_ready(self, timeout: float) -> dict[str, Any]:
        ready = self.control.receive(timeout)
        self.info = ready
        return ready

    def alive(self) -> bool:
        return not self.dead

    def stop(self) -> None:
        """Kill the template (its children die with it: PDEATHSIG)."""
        if self.dead and self.pidfd < 0 and self.popen is None:
            return
        self.dead = True
        if self.popen is not None:  # our own child: its pid is ours until we wait for it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self.popen.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
        _pidfd_kill(self.pidfd)
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        self.control.close()


class Zygotes:
    """The base zygote of the host interpreter and its preload zygotes, started on demand."""

    def __init__(self, work_dir: Path, *, nice: int = DEFAULT_NICE) -> None:
        """``nice``: steps below the platform that zygotes, and so every process forked from
        them, run at (``priority``)."""
        self._work_dir = work_dir
        self._nice = nice
        self._lock = threading.Lock()
        self._base: TemplateProcess | None = None
        self._preload: dict[tuple[str, ...], TemplateProcess] = {}
        self.preload_failures: dict[tuple[str, ...], dict[str, str]] = {}

    def base(self) -> TemplateProcess:
        with self._lock:
            return self._base_locked()

    def _base_locked(self) -> TemplateProcess:
        base = self._base
        if base is not None and base.alive() and base.popen and base.popen.poll() is None:
            return base
        self._reset_locked()
        self._base = self._spawn()
        return self._base

    def for_preload(self, preload: tuple[str, ...]) -> TemplateProcess:
        key = tuple(sorted(set(preload)))
        with self._lock:
            base = self._base_locked()
            if not key:
                return base
            zygote = self._preload.get(key)
            if zygote is not None and zygote.alive():
                return zygote
            zygote, log_fd = base.fork_template("zygote", preload=list(key))
            os.close(log_fd)
            try:
                ready = zygote.await_ready(START_TIMEOUT_S)
            except BaseException:
                zygote.stop()
                raise
            failed = dict(ready.get("failed") or {})
            for name, why in failed.items():
                log.warning("preloading %s in the zygote failed: %s", name, why)
            self.preload_failures[key] = failed
            self._preload[key] = zygote
            return zygote

    def runtime_info(self) -> dict[str, Any]:
        return self.base().info

    def _spawn(self) -> TemplateProcess:
        ours, theirs = control_pair()
        log_path = self._work_dir / "zygote.log"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-I", "-c", _LOADER, BOOTSTRAP_DIR, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd="/",
                process_group=0,  # not a session of its own: see ``priority``
            )
        lower(popen.pid, self._nice)
        theirs.close()
        zygote = TemplateProcess(popen.pid, ControlChannel(ours), "zygote", popen=popen)
        try:
            zygote.await_ready(START_TIMEOUT_S)
        except BaseException as exc:
            zygote.stop()
            raise RuntimeError(f"the zygote did not start; see {log_path}") from exc
        return zygote

    def _reset_locked(self) -> None:
        for zygote in self._preload.values():
            zygote.stop()
        self._preload.clear()
        if self._base is not None:
            self._base.stop()
            self._base = None

    def close(self) -> None:
        with self._lock:
            self._reset_locked()

"""Data-plane workers: more processes serving the HTTP port, for the store-backed services.

One Python process runs on about one core (the interpreter lock), so a server started with
``--workers N`` runs N-1 worker processes beside its primary. The primary holds everything with
in-process state (function environments, queues' wake-ups, pollers, executions). A worker
serves the requests of the services whose whole state is in the store
(``Provider.serves_in_workers``: DynamoDB) and passes every other request, unchanged, to the
primary over the primary's Unix socket (``gateway.proxy``).

Invariants:
- Every process has its own listening socket on the same port (``SO_REUSEPORT``): the kernel
  spreads connections across them by a hash of the addresses. A worker's socket is created by
  the primary, passed to the worker, and closed in the primary, so when a worker dies its
  queued connections are reset rather than left waiting, and the others keep serving. The
  primary starts a new worker in its place.
- Not one socket shared by all processes, as pre-fork servers do: uvloop (libuv) accepts every
  connection queued when it wakes, so connections opened together land on whichever process
  wakes first. Measured with 16 connections opened at once over 3 processes, 20 trials each:
  with one shared socket the busiest process held all 16 in 12 trials (mean 14.6; 15.2 when
  accepting one connection per wake-up), with ``SO_REUSEPORT`` 7 (mean 7.2, worst 9).
- The primary has migrated the store and reset the shared cache epochs (``store.epochs``)
  before any worker starts; workers run no migrations, recovery or sweeps.
- A worker answers a write only after it committed (the providers' own rule), so killing any
  process loses nothing acknowledged.
- Workers die with the primary: each asks the kernel for SIGTERM when its parent exits
  (``PR_SET_PDEATHSIG``) and checks its parent once more after asking. A clean stop of the
  primary stops the workers first (a replacement being started too), then itself.
- The primary reports ready (``server.json``) only after every worker said it serves, and
  rewrites it when a replacement serves. If a worker does not start, the primary stops the
  others, closes its platform and exits with status 1 and a one-line reason.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lambdamaker.config import PlatformConfig

log = logging.getLogger("lambdamaker.workers")

READY_TIMEOUT_S = 60.0
RESPAWN_DELAY_S = 1.0
_PR_SET_PDEATHSIG = 1


def primary_socket_address() -> str:
    """A fresh address for the primary's Unix socket: Linux's abstract namespace (no file to
    clean up, no path-length limit), else a short path in the temp dir."""
    token = f"lambdamaker-{os.getpid()}-{secrets.token_hex(4)}"
    if sys.platform.startswith("linux"):
        return "\0" + token
    return os.path.join("/tmp", token + ".sock")


def bind_unix(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen(2048)
    return sock


def bind_tcp(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class PortTaken(OSError):
    """Another server with workers holds this port."""


def claim_port(port: int) -> int:
    """An open file locked for ``port``, held for the primary's lifetime.

    ``SO_REUSEPORT`` lets any process of the same user bind a port that is bound with it, so two
    servers started with ``--workers`` on one port would silently split its connections. Each
    such primary holds this lock (released by the kernel when the process dies), and a second
    one fails as a plain bind would. A server without workers binds without ``SO_REUSEPORT``
    and gets the usual "address in use" from the kernel.
    """
    import fcntl
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"lambdamaker-port-{port}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise PortTaken(98, f"port {port} is in use by another lambdamaker server") from None
    return fd


def bind_primary(host: str, port: int, workers: int) -> socket.socket:
    """The primary's listening socket (with ``SO_REUSEPORT`` and the port's lock when it will
    have workers)."""
    if workers <= 1:
        return bind_tcp(host, port, reuse_port=False)
    if port:
        claim_port(port)
        return bind_tcp(host, port, reuse_port=True)
    sock = bind_tcp(host, 0, reuse_port=True)
    claim_port(sock.getsockname()[1])
    return sock


def worker_services() -> list[str]:
    """The services a worker serves itself."""
    from lambdamaker.services import PROVIDERS, provider_class

    return [name for name in PROVIDERS if provider_class(name).serves_in_workers]


# -- the primary's side --------------------------------------------------------------------------


class WorkerStartFailed(RuntimeError):
    """A data-plane worker did not say it serves (it died, or it was not ready in time)."""


class WorkerSupervisor:
    """Starts the workers, replaces one that dies, stops them all.

    Starting a process and stopping them all exclude each other (``_lock``): once ``stop``
    began no worker is started, and a replacement being started when it begins is stopped with
    the others, never left to ``PR_SET_PDEATHSIG``. ``on_change`` hears the live workers' pids
    when they all serve and again each time a replacement serves (``server.json``), never after
    ``stop`` began.
    """

    def __init__(
        self,
        config: PlatformConfig,
        host: str,
        port: int,
        primary: str,
        endpoint: str,
        on_change: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.primary = primary
        self.endpoint = endpoint
        self.on_change = on_change
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * (config.workers - 1)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start every worker and wait until each serves; ``WorkerStartFailed`` if one does not
        (the caller stops the others)."""
        readers: list[int] = []
        try:
            for i in range(len(self.procs)):
                try:
                    ready = self._spawn(i)
                except OSError as exc:
                    raise WorkerStartFailed(
                        f"could not start data-plane worker {i + 1}: {exc}"
                    ) from None
                if ready is None:
                    raise WorkerStartFailed("the server stopped while its workers started")
                readers.append(ready)
            deadline = time.monotonic() + READY_TIMEOUT_S
            for i in range(len(readers)):
                ready, readers[i] = readers[i], -1
                if not _wait_ready(ready, deadline):
                    raise WorkerStartFailed(self._why_not_ready(i))
        finally:
            for fd in readers:
                if fd >= 0:
                    os.close(fd)
        self._changed()
        self.watch()

    def watch(self) -> None:
        """Replace every worker that dies, from a thread, until ``stop``."""
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)
        self._watcher.start()

    def _why_not_ready(self, index: int) -> str:
        proc = self.procs[index]
        what = f"data-plane worker {index + 1} did not start"
        if proc is not None:
            try:  # it closed the pipe by exiting: an instant before it can be reaped
                proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        if proc is not None and proc.poll() is not None:
            return f"{what}: it exited with status {proc.returncode} (its output is above)"
        return f"{what}: not serving after {READY_TIMEOUT_S:.0f} s"

    def _spawn(self, index: int) -> int | None:
        """Start worker ``index``; the read end of its readiness pipe, or None once stopping."""
        with self._lock:
            if self._stopping.is_set():
                return None
            sock = bind_tcp(self.host, self.port, reuse_port=True)
            try:
                sock.listen(2048)
                ready_r, ready_w = os.pipe()
            except OSError:
                sock.close()
                raise
            spec = {
                "config": _config_json(self.config),
                "primary": self.primary,
                "endpoint": self.endpoint,
                "fd": sock.fileno(),
                "ready_fd": ready_w,
                "parent": os.getpid(),
            }
            cmd = [sys.executable, "-m", "lambdamaker", "worker", json.dumps(spec)]
            try:
                self.procs[index] = start_process(cmd, (sock.fileno(), ready_w))
            except OSError:
                os.close(ready_r)
                raise
            finally:
                sock.close()  # the worker holds the only copy now (see the invariants)
                os.close(ready_w)
            return ready_r

    def _changed(self) -> None:
        with self._lock:
            if self.on_change is None or self._stopping.is_set():
                return
            try:
                self.on_change(self.pids())
            except Exception:  # the watcher must go on replacing workers
                log.exception("could not report the data-plane workers")

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for i, proc in enumerate(self.procs):
                if proc is None or proc.poll() is None:
                    continue
                log.warning("data-plane worker %d exited with %s; starting another", i + 1,
                            proc.returncode)  # fmt: skip
                if self._stopping.wait(RESPAWN_DELAY_S):
                    return
                try:
                    ready = self._spawn(i)
                except OSError:
                    log.exception("could not start data-plane worker %d", i + 1)
                    continue
                if ready is None:  # stopping
                    return
                if _wait_ready(ready, time.monotonic() + READY_TIMEOUT_S):
                    self._changed()

    def stop(self, timeout: float = 30.0) -> None:
        with self._lock:  # after this no worker starts, and none is being started
            self._stopping.set()
            live = [p for p in self.procs if p is not None and p.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(max(0.1, deadline - time.monotonic()))  # its replacement died: at once

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]


def start_process(cmd: list[str], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
    """A worker process running ``cmd`` with ``fds`` open in it."""
    return subprocess.Popen(cmd, pass_fds=fds)


def _wait_ready(fd: int, deadline: float) -> bool:
    """Block until the worker writes its ready byte (or closes the pipe by dying)."""
    import select

    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                return os.read(fd, 1) == b"r"
    finally:
        os.close(fd)


def _config_json(config: PlatformConfig) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}


# -- the worker's side ---------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before we asked
        sys.exit(0)


def run_worker(spec_json: str) -> None:
    """The body of ``lambdamaker worker SPEC``, which only the primary runs."""
    from lambdamaker.gateway.worker_app import WorkerApp
    from lambdamaker.platform import Platform
    from lambdamaker.server import uvicorn_server  # imports this module: not at the top

    spec = json.loads(spec_json)
    _die_with_parent(int(spec["parent"]))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s"
    )
    raw = spec["config"]
    raw["data_dir"] = Path(raw["data_dir"])
    config = PlatformConfig(**raw)
    sock = socket.socket(fileno=int(spec["fd"]))
    platform = Platform(config, services=worker_services(), worker=True)
    platform.endpoint_url = spec["endpoint"]
    platform.start()
    ready_fd = int(spec["ready_fd"])

    def ready() -> None:
        os.write(ready_fd, b"r")
        os.close(ready_fd)

    app = WorkerApp(platform, spec["primary"], on_ready=ready)
    server = uvicorn_server(app)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    # What start-up allocated (modules, models, caches) lives as long as the process: keep it
    # out of every later full collection, which would otherwise scan it each time (~25 ms).
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        if platform._started:
            platform.close()

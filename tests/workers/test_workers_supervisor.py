"""The primary's supervision of its data-plane workers: ``server.json`` follows replacements, a
worker that does not start stops the server cleanly, and stopping never leaves a worker behind
to ``PR_SET_PDEATHSIG`` (not even one being started at that moment)."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from workers_support import worker_pids

from lambdamaker import workers
from lambdamaker.config import PlatformConfig
from lambdamaker.testing import ServerProcess

_PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture
def subreaper() -> Iterator[None]:
    """Orphans of this process's descendants are re-parented here (not to init) while the test
    runs, so a test can tell a worker its primary stopped (reaped there) from one it left to
    ``PR_SET_PDEATHSIG`` (orphaned, then ours to reap)."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _orphaned_to_us(pid: int) -> bool:
    """Whether ``pid`` was re-parented to this process (reaping it if it exited)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def test_server_json_lists_the_replacement_of_a_killed_worker(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", extra_args=["--workers", "2"]).start()
    try:
        state_file = srv.data_dir / "server.json"
        (old,) = json.loads(state_file.read_text())["workers"]
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            listed = json.loads(state_file.read_text())["workers"]
            if listed != [old]:
                break
            assert time.monotonic() < deadline, "server.json still lists the killed worker"
            time.sleep(0.1)
        assert len(listed) == 1 and listed == worker_pids(srv)
        state = json.loads(state_file.read_text())
        assert state["pid"] == srv.proc.pid and state["endpoint"] == srv.endpoint_url  # type: ignore[union-attr]
    finally:
        assert srv.stop() == 0
    assert not state_file.exists()


_FAIL_ONE_WORKER = """\
import os, sys, time
if sys.argv[1:2] == ["worker"]:
    try:  # the first worker to get here fails once the other one runs; the other starts
        os.close(os.open({marker!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        with open({pids!r} + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename({pids!r} + ".tmp", {pids!r})
    else:
        deadline = time.monotonic() + 30
        while not os.path.exists({pids!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
        print("worker: failing on purpose", file=sys.stderr, flush=True)
        os._exit(3)
"""


def test_a_worker_that_does_not_start_stops_the_server_cleanly(
    tmp_path: Path, subreaper: None
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    pids_file = tmp_path / "good-workers"
    code = _FAIL_ONE_WORKER.format(marker=str(tmp_path / "failed"), pids=str(pids_file))
    (hook / "sitecustomize.py").write_text(code)
    data = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(hook))
    cmd = [sys.executable, "-m", "lambdamaker", "server", "--port", "0", "--workers", "3"]
    result = subprocess.run(
        [*cmd, "--data-dir", str(data)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(
        r"lambdamaker: data-plane worker [12] did not start: it exited with status 3", result.stderr
    ), result.stderr
    assert not (data / "server.json").exists()
    # The platform was closed: a clean close of the store checkpoints and removes its WAL.
    assert not (data / "lambdamaker.db-wal").exists()
    # The worker that did start was stopped and reaped by the primary, not orphaned.
    good = int(pids_file.read_text())
    assert not _orphaned_to_us(good)


def test_stopping_while_a_replacement_is_being_started_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = PlatformConfig(data_dir=tmp_path, workers=2)
    reported: list[list[int]] = []
    supervisor = workers.WorkerSupervisor(
        config, "127.0.0.1", 0, "unused", "http://unused", reported.append
    )
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    supervisor.procs[0] = dead  # a worker that died: the watcher replaces it
    starting = threading.Event()
    started: list[subprocess.Popen[bytes]] = []

    def slow_start(cmd: list[str], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
        starting.set()
        time.sleep(0.5)  # stop() is called meanwhile
        # A replacement that never says it serves: only a signal ends it.
        proc = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"], pass_fds=fds
        )
        started.append(proc)
        return proc

    monkeypatch.setattr(workers, "start_process", slow_start)
    monkeypatch.setattr(workers, "RESPAWN_DELAY_S", 0.0)
    supervisor.watch()
    try:
        assert starting.wait(10)
        t0 = time.monotonic()
        supervisor.stop(timeout=10)
        assert time.monotonic() - t0 < 5
        assert len(started) == 1
        assert started[0].poll() == -signal.SIGTERM  # stopped by stop(), not left running
        assert supervisor._watcher is not None and not supervisor._watcher.is_alive()
        assert reported == []  # nothing is reported once stopping began
        assert supervisor.pids() == []
    finally:
        for proc in started:
            proc.kill()
            proc.wait()

"""Resource limits of execution environments: memory and process-count cgroups, uids.

What works on this machine (kernel 6.18, root, cgroup v1 controllers mounted at
``/sys/fs/cgroup/<controller>``, a v2 hierarchy at ``/sys/fs/cgroup/unified`` with no memory
controller):

- **Memory**: one v1 ``memory`` cgroup per environment, ``memory.limit_in_bytes`` = MemorySize.
  The kernel OOM-kills the environment when its own charges pass the limit; ``oom_kill`` in
  ``memory.oom_control`` tells an OOM kill from any other SIGKILL. A pure v2 host uses
  ``memory.max``/``memory.events`` instead. Where neither is writable, the platform polls the
  environment's RSS while it runs (``rss_kb``) and kills it past the limit (a watchdog: coarser,
  but no ``RLIMIT_AS``, which misfires on NumPy/OpenBLAS address-space reservations).
- **Processes**: a ``pids`` cgroup per environment (``pids.max`` 1024, Lambda's limit), so a
  fork bomb in one function cannot exhaust the host. Every process a handler starts is in the
  same cgroups, and ``kill_all`` ends them with the environment.
- **Caveats**: cgroup v1 charges a page to the cgroup of the process that first touches it.
  Pages an environment shares with the zygote or snapshot it was forked from are the
  template's, so the limit applies to what the environment allocates (or copies) itself, while
  Max Memory Used reports its peak RSS, shared pages included. ``/tmp`` is a tmpfs whose pages
  count against the environment's memory too (on Lambda they do not).
- **Cost**: moving a process into a v1 cgroup waits for an RCU grace period of the global
  cgroup lock: 5-30 ms here when no other move happened in the last ~20 ms, 0.2 ms otherwise.
  That is why environments are forked and placed ahead of demand (spares, ``snapshot.py``).

uids: each function (unqualified ARN) runs as its own unprivileged uid (= gid), allocated from
``UID_BASE`` upwards and recorded in ``<work_dir>/uids.json`` so it is stable across restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PIDS_MAX = 1024
UID_BASE = 2_100_000
UID_LIMIT = 3_000_000


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: Path) -> str:
    with open(path) as f:
        return f.read()


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


class EnvCgroup:
    """The cgroups of one environment (memory, and pids when available)."""

    def __init__(self, version: int, memory: Path | None, pids: Path | None) -> None:
        self.version = version
        self.memory = memory
        self.pids = pids

    def dirs(self) -> list[Path]:
        return [d for d in (self.memory, self.pids) if d is not None]

    def attach(self, pid: int) -> None:
        for d in self.dirs():
            _write(d / "cgroup.procs", str(pid))

    def oom_killed(self) -> bool:
        if self.memory is None:
            return False
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in _read(self.memory / name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def peak_mb(self) -> int:
        if self.memory is None:
            return 0
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return -(-int(_read(self.memory / name)) // (1 << 20))
        except (OSError, ValueError):
            return 0

    def procs(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs():
            try:
                found.update(int(x) for x in _read(d / "cgroup.procs").split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill_all(self) -> None:
        if self.version == 2 and self.memory is not None:
            with contextlib.suppress(OSError):
                _write(self.memory / "cgroup.kill", "1")
                return
        for pid in self.procs():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self, wait_s: float = 1.0) -> bool:
        """Kill what is left and remove the directories; False if one is still busy."""
        deadline = time.monotonic() + wait_s
        while True:
            self.kill_all()
            busy = False
            for d in self.dirs():
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    busy = True
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)


class Cgroups:
    """Creates per-environment cgroups under ``lambdamaker/<instance>`` of each hierarchy."""

    def __init__(self, root: Path = CGROUP_ROOT, *, enabled: bool = True) -> None:
        self.version = 0
        self._memory_base: Path | None = None
        self._pids_base: Path | None = None
        self._lock = threading.Lock()
        self._leftovers: list[EnvCgroup] = []
        instance = f"{os.getpid()}-{secrets.token_hex(3)}"
        if not enabled or os.geteuid() != 0:
            return
        if _writable_dir(root / "memory") and (root / "memory" / "memory.limit_in_bytes").exists():
            self.version = 1
            self._memory_base = self._make_base(root / "memory", instance)
            if _writable_dir(root / "pids"):
                self._pids_base = self._make_base(root / "pids", instance)
        elif "memory" in _controllers(root):
            self.version = 2
            self._memory_base = self._make_v2_base(root, instance)
        if self._memory_base is None:
            self.version = 0

    @property
    def available(self) -> bool:
        return self.version != 0

    def describe(self) -> str:
        if self.version == 1:
            pids = " + pids" if self._pids_base else ""
            return f"cgroup v1 memory{pids} ({self._memory_base})"
        if self.version == 2:
            return f"cgroup v2 memory + pids ({self._memory_base})"
        return "no writable memory cgroup: RSS watchdog"

    def _make_base(self, mount: Path, instance: str) -> Path | None:
        top = mount / "lambdamaker"
        try:
            top.mkdir(exist_ok=True)
            _sweep_stale(top)
            base = top / instance
            base.mkdir()
            return base
        except OSError:
            return None

    def _make_v2_base(self, root: Path, instance: str) -> Path | None:
        top = root / "lambdamaker"
        try:
            top.mkdir(exist_ok=True)
            _sweep_stale(top)
            with contextlib.suppress(OSError):
                _write(root / "cgroup.subtree_control", "+memory +pids")
            _write(top / "cgroup.subtree_control", "+memory +pids")
            base = top / instance
            base.mkdir()
            _write(base / "cgroup.subtree_control", "+memory +pids")
            return base
        except OSError:
            return None

    def create(self, name: str, memory_mb: int) -> EnvCgroup | None:
        if self._memory_base is None:
            return None
        limit = str(memory_mb << 20)
        memory = self._memory_base / name
        memory.mkdir()
        pids: Path | None = None
        try:
            if self.version == 1:
                _write(memory / "memory.limit_in_bytes", limit)
                with contextlib.suppress(OSError):  # only where swap accounting exists
                    _write(memory / "memory.memsw.limit_in_bytes", limit)
                if self._pids_base is not None:
                    pids = self._pids_base / name
                    pids.mkdir()
                    _write(pids / "pids.max", str(PIDS_MAX))
            else:
                _write(memory / "memory.max", limit)
                with contextlib.suppress(OSError):
                    _write(memory / "memory.swap.max", "0")
                with contextlib.suppress(OSError):
                    _write(memory / "pids.max", str(PIDS_MAX))
        except OSError:
            EnvCgroup(self.version, memory, pids).remove(0)
            raise
        return EnvCgroup(self.version, memory, pids)

    def release(self, cgroup: EnvCgroup) -> None:
        """Remove now, or later (``sweep``) if processes are still exiting."""
        if not cgroup.remove(0.2):
            with self._lock:
                self._leftovers.append(cgroup)

    def sweep(self) -> None:
        with self._lock:
            pending, self._leftovers = self._leftovers, []
        for cgroup in pending:
            self.release(cgroup)

    def close(self) -> None:
        self.sweep()
        for base in (self._memory_base, self._pids_base):
            if base is None:
                continue
            for child in list(base.iterdir()) if base.exists() else []:
                if child.is_dir():
                    EnvCgroup(self.version, child, None).remove(0.5)
            with contextlib.suppress(OSError):
                base.rmdir()


def _controllers(root: Path) -> set[str]:
    try:
        return set(_read(root / "cgroup.controllers").split())
    except OSError:
        return set()


def _sweep_stale(top: Path) -> None:
    """Remove instance directories left by platforms that no longer run (crash, kill -9)."""
    for instance in top.iterdir():
        if not instance.is_dir():
            continue
        owner = instance.name.split("-", 1)[0]
        if owner.isdigit() and Path(f"/proc/{owner}").exists():
            continue
        for child in instance.iterdir():
            if child.is_dir():
                EnvCgroup(1, child, None).remove(0)
        with contextlib.suppress(OSError):
            instance.rmdir()


def rss_kb(pid: int) -> int:
    """Resident set size of a process (the watchdog's measure), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


class UidAllocator:
    """A stable, distinct uid per function, recorded in a JSON file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._uids: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            self._uids = {str(k): int(v) for k, v in json.loads(path.read_text()).items()}

    def uid_for(self, function_arn: str) -> int:
        with self._lock:
            uid = self._uids.get(function_arn)
            if uid is not None:
                return uid
            used = set(self._uids.values())
            uid = UID_BASE
            while uid in used:
                uid += 1
            if uid >= UID_LIMIT:
                raise RuntimeError("no uid left for a new function")
            self._uids[function_arn] = uid
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._uids, indent=1, sort_keys=True))
            os.replace(tmp, self._path)
            return uid

"""Per-version templates: the snapshot (SnapStart-style) and the spare environments.

A ``KeyTemplate`` belongs to one function configuration (a ``FunctionSpec``; a change to any
field, code or configuration, makes a new one). It knows where that function's environments
come from:

- with ``spec.snapshot``, a **snapshot**: a process forked from the preload zygote that entered
  the function's sandbox, ran init (imported the handler module) and the before-snapshot hooks,
  then serves forks. Its children skip init entirely: they re-seed and run after-restore hooks.
  If init fails in the snapshot, the function falls back to zygote forks, whose environments run
  init themselves and report the error on their first invocation, as Lambda does on each cold
  start;
- otherwise, or after a failed snapshot, the **preload zygote**, with the launch parameters.

It also keeps **spares**: environments already forked, sandboxed and placed in their cgroups,
waiting for ``START``. Moving a process into a v1 cgroup costs 5-30 ms here (``limits.py``), and
a fork of a process holding NumPy, pandas and scikit-learn costs ~4 ms; a spare takes both off
the cold path, which becomes one round trip (``START``/``READY``). A spare is made by the
backend's filler thread right after one is taken, so a burst uses spares first and then forks
synchronously. Spares exist only for configurations that were invoked, and go with the template.

Invariants: an environment never outlives its template's snapshot (``PDEATHSIG``), so a retired
template keeps its snapshot until its last live environment is stopped; a template's spares
are killed when it is retired or reaped.

Measured here (2 shared vCPUs), a whole cold ``invoke`` of a handler that imports NumPy, pandas
and scikit-learn and fits a small model at init (p50 over 15 cold starts):

- fresh interpreter (what Lambda does; ``python`` importing the module): ~1,100 ms;
- zygote fork, snapshot off (the zygote preloaded the imports; init fits the model): ~30 ms;
- snapshot fork without a spare (fork ~4 ms, sandbox ~1 ms, cgroup move 10-30 ms): ~20 ms;
- snapshot fork from a ready spare: ~4 ms, of which ``START``->``READY`` (re-seed, restore
  hooks) ~1 ms and the first ``predict_proba`` the rest.

The first invocation of a configuration also builds its snapshot: ~1.1-1.4 s here, once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from lambdamaker.engines.functions import launch
from lambdamaker.engines.functions.bootstrap.logcapture import read_records
from lambdamaker.engines.functions.ipc import ChannelClosed
from lambdamaker.engines.functions.limits import Cgroups
from lambdamaker.engines.functions.spec import FunctionSpec
from lambdamaker.engines.functions.zygote import EnvProcess, TemplateProcess, Zygotes

LogEvents = list[tuple[int, str]]
SPARE_WAIT_S = 0.2


class KeyTemplate:
    def __init__(
        self,
        spec: FunctionSpec,
        *,
        zygotes: Zygotes,
        cgroups: Cgroups,
        uid: int | None,
        hide: list[str],
        spares: int,
        child_userns: bool = True,
        request_refill: Callable[[KeyTemplate], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._zygotes = zygotes
        self._cgroups = cgroups
        self._params = launch.launch_params(spec, uid=uid, hide=hide)
        self._snapshot_params = launch.launch_params(
            spec, uid=uid, hide=hide, initialization_type="snap-start"
        )
        self._snapshot_params["child_userns"] = child_userns
        self._spare_target = spares
        self._request_refill = request_refill
        self._cond = threading.Condition()
        self._build_lock = threading.Lock()
        self._snapshot: TemplateProcess | None = None
        self._snapshot_failed = not spec.snapshot
        self._pending_logs: LogEvents = []
        self._spares: list[tuple[EnvProcess, bool]] = []
        self._refilling = 0
        self._discard_later: list[EnvProcess] = []
        self.live = 0
        self.retired = False
        self.idle_since: float | None = None

    # -- environments -----------------------------------------------------------------------

    def take(self, *, fresh: bool = False) -> tuple[EnvProcess, bool]:
        """A process for a new environment: (process, forked from the snapshot)."""
        taken: tuple[EnvProcess, bool] | None = None
        with self._cond:
            if self.retired:
                raise ChannelClosed("template retired")
            self.live += 1
            self.idle_since = None
            if not fresh:
                deadline = time.monotonic() + SPARE_WAIT_S
                while not self._spares and self._refilling and time.monotonic() < deadline:
                    self._cond.wait(SPARE_WAIT_S)
                while self._spares and taken is None:
                    candidate = self._spares.pop()
                    if candidate[0].parent.dead:  # its template died: so did it
                        self._discard_later.append(candidate[0])
                    else:
                        taken = candidate
        with self._cond:
            stale, self._discard_later = self._discard_later, []
        for proc in stale:
            self.discard(proc)
        try:
            if taken is None:
                taken = self._fork()
        except BaseException:
            self.released()
            raise
        if self._spare_target:
            self._request_refill(self)
        return taken

    def pending_init_logs(self) -> LogEvents:
        """The snapshot's init output, handed to the first environment that logs it."""
        with self._cond:
            logs, self._pending_logs = self._pending_logs, []
        return logs

    def released(self) -> None:
        """An environment of this template stopped."""
        stop_snapshot = None
        with self._cond:
            self.live -= 1
            if self.live == 0:
                self.idle_since = self._clock()
                if self.retired:
                    stop_snapshot, self._snapshot = self._snapshot, None
        if stop_snapshot is not None:
            stop_snapshot.stop()

    def refill(self) -> None:
        """Fork spares up to the target (the backend's filler thread calls this)."""
        while True:
            with self._cond:
                if self.retired or len(self._spares) + self._refilling >= self._spare_target:
                    return
                self._refilling += 1
            made: tuple[EnvProcess, bool] | None = None
            try:
                made = self._fork()
            except Exception:
                made = None
            failed = made is None
            with self._cond:
                self._refilling -= 1
                if made is not None and not self.retired:
                    self._spares.append(made)
                    made = None
                self._cond.notify_all()
            if made is not None:  # retired meanwhile
                self.discard(made[0])
                return
            if failed:  # try again on the next demand, not in a loop
                return

    def discard(self, proc: EnvProcess) -> None:
        proc.kill()
        proc.close()
        if proc.cgroup is not None:
            self._cgroups.release(proc.cgroup)

    def _fork(self) -> tuple[EnvProcess, bool]:
        for attempt in range(2):
            source, params, from_snapshot = self._source()
            try:
                proc = source.fork_env(params)
            except ChannelClosed:
                if attempt:
                    raise
                self._source_died(source)
                continue
            try:
                proc.cgroup = self._cgroups.create(
                    f"env-{uuid.uuid4().hex[:16]}", self.spec.memory_mb
                )
                if proc.cgroup is not None:
                    proc.cgroup.attach(proc.pid)
            except ProcessLookupError as exc:  # it died setting up: say why
                output = "".join(m for _, m in read_records(proc.read_records()))
                self.discard(proc)
                raise RuntimeError(f"environment setup failed:\n{output[-4000:]}") from exc
            except BaseException:
                self.discard(proc)
                raise
            return proc, from_snapshot
        raise ChannelClosed("no template")

    def _source_died(self, source: TemplateProcess) -> None:
        with self._cond:
            if source is self._snapshot:
                self._snapshot = None
        source.stop()

    # -- the snapshot -----------------------------------------------------------------------

    def _source(self) -> tuple[TemplateProcess, dict[str, Any] | None, bool]:
        if not self._snapshot_failed:
            snapshot = self._snapshot
            if snapshot is None or snapshot.dead:
                snapshot = self._build_snapshot()
            if snapshot is not None:
                return snapshot, None, True
        return self._zygotes.for_preload(self.spec.preload), self._params, False

    def _build_snapshot(self) -> TemplateProcess | None:
        with self._build_lock:
            if self._snapshot is not None and not self._snapshot.dead:
                return self._snapshot
            if self._snapshot_failed or self.retired:
                return None
            zygote = self._zygotes.for_preload(self.spec.preload)
            snapshot, log_fd = zygote.fork_template("snapshot", params=self._snapshot_params)
            try:
                ready = snapshot.await_ready(max(10.0, float(self.spec.timeout_s)) + 5.0)
                end = int(ready.get("log_end") or 0)
                logs = read_records(os.pread(log_fd, end, 0)) if end else []
            except (TimeoutError, ChannelClosed, OSError):
                ready, logs = {"error": "snapshot did not start"}, []
            finally:
                with contextlib.suppress(OSError):
                    os.close(log_fd)
            if ready.get("error") is not None:
                snapshot.stop()
                self._snapshot_failed = True  # environments run init themselves from now on
                return None
            with self._cond:
                if self.retired:
                    snapshot.stop()
                    return None
                self._snapshot = snapshot
                self._pending_logs = logs
            return snapshot

    @property
    def snapshot_pid(self) -> int | None:
        snapshot = self._snapshot
        return snapshot.pid if snapshot is not None and not snapshot.dead else None

    # -- end of life ------------------------------------------------------------------------

    def retire(self) -> None:
        """No new environments; spares go now, the snapshot when the last environment stops."""
        with self._cond:
            self.retired = True
            spares, self._spares = self._spares, []
            stop_snapshot = None
            if self.live <= 0:
                stop_snapshot, self._snapshot = self._snapshot, None
            self._cond.notify_all()
        for proc, _ in spares:
            self.discard(proc)
        if stop_snapshot is not None:
            stop_snapshot.stop()

    def spare_count(self) -> int:
        with self._cond:
            return len(self._spares)

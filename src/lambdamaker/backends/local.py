"""The local backend: execution environments as processes on this host.

Python runtimes run on the host interpreter (whatever ``python3.X`` a function names; the
engine says which version actually runs in ``describe()``), forked from zygotes and per-version
snapshots (``engines.functions.zygote``, ``engines.functions.snapshot``), each in its own
sandbox (``bootstrap/sandbox.py``: mount namespace, private /tmp, per-function uid) and cgroups
(``engines.functions.limits``).

The base zygote probes once what the host allows (``describe()["sandbox"]``): ``full`` here
(root, mount and user namespaces); ``root-only`` where unprivileged user namespaces are off (a
snapshot's environments then share the snapshot's /tmp, still private to the function);
``none`` without root (environments run as the platform's user with a shared /tmp; memory is
then enforced by the RSS watchdog, as it is wherever no memory cgroup is writable).

Templates (``KeyTemplate``) are kept per function configuration. One that has no environment
left is reaped after ``template_idle_s`` (on the engine's clock, in ``tick``), or when more than
``max_templates`` exist (least recently idle first). A filler thread makes spare environments
off the invoke path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from lambdamaker.engines.functions.bootstrap.template import runtime_paths as host_runtime_paths
from lambdamaker.engines.functions.environment import Environment, LogSink
from lambdamaker.engines.functions.limits import Cgroups, UidAllocator
from lambdamaker.engines.functions.priority import DEFAULT_NICE
from lambdamaker.engines.functions.provided_env import ProvidedEnvironment
from lambdamaker.engines.functions.python_env import PythonEnvironment
from lambdamaker.engines.functions.snapshot import KeyTemplate
from lambdamaker.engines.functions.spec import FunctionSpec
from lambdamaker.engines.functions.zygote import Zygotes

log = logging.getLogger("lambdamaker.functions")


class LocalBackend:
    name = "local"

    def __init__(
        self,
        work_dir: Path,
        *,
        logs: LogSink,
        clock: Callable[[], float],
        spares: int = 1,
        template_idle_s: float = 1800.0,
        max_templates: int = 64,
        hidden_dirs: tuple[str, ...] = (),
        cgroups: bool = True,
        nice: int = DEFAULT_NICE,
    ) -> None:
        """``nice``: steps below the platform that function processes run at (``priority``)."""
        self._work_dir = Path(work_dir)
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self._logs = logs
        self._clock = clock
        self._spares = spares
        self._template_idle_s = template_idle_s
        self._max_templates = max_templates
        self.root = os.geteuid() == 0
        self._nice = nice
        self._zygotes = Zygotes(self._work_dir, nice=nice)
        self._cgroups = Cgroups(enabled=cgroups)
        self._uids = UidAllocator(self._work_dir / "uids.json") if self.root else None
        self._hide = sorted({str(self._work_dir.resolve()), *hidden_dirs})
        self._lock = threading.Lock()
        self._templates: dict[str, KeyTemplate] = {}
        self._fill_cond = threading.Condition()
        self._fill_queue: deque[KeyTemplate] = deque()
        self._closed = False
        self._filler = threading.Thread(
            target=self._fill_loop, name="lambdamaker-spares", daemon=True
        )
        self._filler.start()

    # -- environments ---------------------------------------------------------------------------

    def create_environment(
        self, spec: FunctionSpec, *, initialization_type: str = "on-demand"
    ) -> Environment:
        if spec.runtime.startswith("provided"):
            # A bootstrap executable under the Runtime API; same cgroups and, as root, the
            # same sandbox as Python environments (a uid per function, private /tmp, masks).
            sandbox = None
            if self._uids is not None and self.sandbox_mode() != "none":
                uid = self._uids.uid_for(spec.function_arn)
                sandbox = {
                    "uid": uid,
                    "gid": uid,
                    "runtime": host_runtime_paths(),
                    "hide": self._hide,
                }
            return ProvidedEnvironment(
                spec,
                logs=self._logs,
                work_dir=self._work_dir / "provided",
                initialization_type=initialization_type,
                cgroups=self._cgroups,
                sandbox=sandbox,
                nice=self._nice,
            )
        return PythonEnvironment(
            spec,
            template=self.template_for(spec),
            logs=self._logs,
            cgroups=self._cgroups,
            initialization_type=initialization_type,
        )

    def sandbox_mode(self) -> str:
        """``full``, ``root-only`` or ``none``: what the zygote found this host allows."""
        return str(self._zygotes.runtime_info().get("sandbox", "none"))

    def template_for(self, spec: FunctionSpec) -> KeyTemplate:
        fingerprint = repr(spec)
        evicted: list[KeyTemplate] = []
        mode = self.sandbox_mode()
        with self._lock:
            if self._closed:
                raise RuntimeError("the backend is closed")
            template = self._templates.get(fingerprint)
            if template is not None and not template.retired:
                return template
            uid = None
            if self._uids is not None and mode != "none":
                uid = self._uids.uid_for(spec.function_arn)
            template = KeyTemplate(
                spec,
                zygotes=self._zygotes,
                cgroups=self._cgroups,
                uid=uid,
                child_userns=mode == "full",
                hide=self._hide,
                spares=self._spares,
                request_refill=self._request_refill,
                clock=self._clock,
            )
            self._templates[fingerprint] = template
            if len(self._templates) > self._max_templates:
                idle = [(t.idle_since, k) for k, t in self._templates.items() if t.live == 0]
                for _, key in sorted(idle, key=lambda x: x[0] or 0.0)[
                    : len(self._templates) - self._max_templates
                ]:
                    evicted.append(self._templates.pop(key))
        for old in evicted:
            old.retire()
        return template

    def retire(self, function_arn: str, version: str | None = None) -> None:
        with self._lock:
            gone = [
                key
                for key, t in self._templates.items()
                if t.spec.function_arn == function_arn
                and (version is None or t.spec.version == version)
            ]
            templates = [self._templates.pop(key) for key in gone]
        for template in templates:
            template.retire()

    def tick(self) -> None:
        now = self._clock()
        with self._lock:
            stale = [
                key
                for key, t in self._templates.items()
                if t.live == 0
                and t.idle_since is not None
                and now - t.idle_since >= self._template_idle_s
            ]
            templates = [self._templates.pop(key) for key in stale]
        for template in templates:
            template.retire()
        self._cgroups.sweep()

    def describe(self) -> dict[str, object]:
        with self._lock:
            templates = list(self._templates.values())
        return {
            "backend": self.name,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "sandbox": self.sandbox_mode(),
            "limits": self._cgroups.describe(),
            "templates": len(templates),
            "snapshots": sum(1 for t in templates if t.snapshot_pid is not None),
            "spares": sum(t.spare_count() for t in templates),
            "live_environments": sum(t.live for t in templates),
        }

    # -- spares -------------------------------------------------------------------------------

    def _request_refill(self, template: KeyTemplate) -> None:
        with self._fill_cond:
            if template not in self._fill_queue:
                self._fill_queue.append(template)
                self._fill_cond.notify()

    def _fill_loop(self) -> None:
        while True:
            with self._fill_cond:
                while not self._fill_queue and not self._closed:
                    self._fill_cond.wait()
                if self._closed:
                    return
                template = self._fill_queue.popleft()
            try:
                template.refill()
            except Exception:
                log.warning("making a spare environment failed", exc_info=True)

    # -- end ------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._fill_cond:
            self._closed = True
            self._fill_cond.notify_all()
        self._filler.join(timeout=10)
        with self._lock:
            self._closed = True
            templates = list(self._templates.values())
            self._templates.clear()
        for template in templates:
            with contextlib.suppress(Exception):
                template.retire()
        self._zygotes.close()  # takes every snapshot and environment with it (PDEATHSIG)
        self._cgroups.close()

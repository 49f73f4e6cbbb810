"""A background loop: one daemon thread that runs passes of work, sleeping between them until it
is woken or its next work is due.

The delivery dispatchers and schedule loops (SNS delivery, EventBridge delivery and rules, the
Scheduler) all share this shape; they differ only in what a pass does and how long they may
sleep.

Invariants:
- A ``notify()`` that arrives while a pass runs is never lost: the flag it sets is cleared only
  at the start of a pass, so the loop runs another pass instead of sleeping.
- A pass that raises is logged and the loop sleeps ``error_wait`` before trying again: one bad
  row or a transient store error cannot kill the thread.
- ``close()`` wakes the thread and joins it; after ``close()`` no pass starts. ``start()`` may be
  called again after ``close()``.
- The sleep after a pass is the pass's answer clamped to ``[min_wait, max_wait]``: the floor
  keeps a loop that is always due from spinning, the ceiling bounds how late a missed wake-up
  (for example a change committed by another process) is noticed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("lambdamaker.background")


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        work: Callable[[], float | None],
        *,
        min_wait: float = 0.0,
        max_wait: float = 5.0,
        error_wait: float = 1.0,
    ) -> None:
        """``work()`` runs one pass and returns the seconds until its next work is due (None:
        nothing is due, sleep ``max_wait`` unless woken)."""
        self.name = name
        self.work = work
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.error_wait = error_wait
        self.wake = threading.Condition()
        self._dirty = True
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self.wake:
            self._stopping = False
            self._dirty = True
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def notify(self) -> None:
        with self.wake:
            self._dirty = True
            self.wake.notify_all()

    def stopped(self) -> bool:
        with self.wake:
            return self._stopping

    def close(self, timeout: float = 10.0) -> None:
        with self.wake:
            self._stopping = True
            self.wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self.wake:
                if self._stopping:
                    return
                self._dirty = False
            try:
                wait = self.work()
            except Exception:
                log.exception("%s: pass failed", self.name)
                wait = self.error_wait
            if wait is None:
                wait = self.max_wait
            with self.wake:
                if self._stopping:
                    return
                if not self._dirty:
                    self.wake.wait(min(self.max_wait, max(wait, self.min_wait)))

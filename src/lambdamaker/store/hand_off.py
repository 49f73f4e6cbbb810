"""``hand_off(fn)``: run ``fn`` on a worker thread, cheaply, for callers on the event loop that
must not block it (``GroupCommitter.run_async`` hands one batch of works per call).

``anyio.to_thread.run_sync`` costs several times the hop itself per call (capacity limiter,
cancel scope, a future chained to a future); here a call is one ``SimpleQueue.put`` and, when
``fn`` reports back, one ``loop.call_soon_threadsafe`` of the caller's own making.

Invariants:

- Every function handed off runs, exactly once, in hand-off order among those waiting: when
  every thread is busy it waits in the queue for the first one free. A function must therefore
  never wait for one handed off after it (a group-commit leader waits only for callers that
  are already running, never for queued ones).
- Threads are shared by the whole process, started on demand up to ``MAX_THREADS`` and ended
  after ``IDLE_S`` without work: an idle process keeps none, and a process that builds many
  platforms (the tests) does not pile them up. They are daemon threads, as anyio's are; a
  forked child starts with none.
- ``hand_off`` either takes ``fn`` (it will run) or raises (it never will: no thread could
  be started). An exception escaping ``fn`` is logged; the thread goes on serving.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_THREADS = 16
IDLE_S = 10.0


class _Threads:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for work that no queued function is promised to
        self._backlog = 0  # functions queued while every thread was busy

    def submit(self, fn: Callable[[], object]) -> None:
        with self._lock:
            start = False
            if self._idle:
                self._idle -= 1
            elif self._threads < MAX_THREADS:
                self._threads += 1
                start = True
            else:
                self._backlog += 1
        if start:
            try:
                threading.Thread(
                    target=self._serve, name="lambdamaker-hand-off", daemon=True
                ).start()
            except BaseException:  # e.g. no thread to be had: ``fn`` is not taken
                with self._lock:
                    self._threads -= 1
                raise
        self._queue.put(fn)

    def _serve(self) -> None:
        while True:
            try:
                fn = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:
                    # More idle threads than functions promised to them: this one may end.
                    # Otherwise a function was just promised to an idle thread and is on
                    # its way into the queue.
                    if self._idle:
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue
            try:
                fn()
            except BaseException:
                log.exception("hand-off function %r failed", fn)
            with self._lock:
                if self._backlog:
                    self._backlog -= 1  # this thread takes the oldest backlog function next
                else:
                    self._idle += 1


_THREADS = _Threads()


def _forget_threads() -> None:
    """In a forked child: the parent's threads do not exist there."""
    global _THREADS
    _THREADS = _Threads()


os.register_at_fork(after_in_child=_forget_threads)


def hand_off(fn: Callable[[], object]) -> None:
    """Run ``fn()`` on a worker thread (see the module's invariants); returns at once."""
    _THREADS.submit(fn)

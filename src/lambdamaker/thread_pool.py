"""``ThreadPool``: daemon worker threads started on demand, for callers on an event loop that
hand work over with one ``SimpleQueue.put`` (no futures, no limiter: the caller reports back to
its loop itself, with one ``call_soon_threadsafe``). Two pools use it: the group committer's
(``store.hand_off``) and the gateway's provider operations (``gateway.threads``); they are
separate so that operations that block for long never starve the commits.

Invariants:

- Every function submitted runs exactly once, in submission order among those waiting: when
  every thread is busy it waits in the queue for the first one free. A function must therefore
  never wait for one submitted after it to the same pool.
- At most ``max_threads`` threads; each ends after ``idle_s`` without work, so an idle process
  keeps none and a process that builds many platforms (the tests) does not pile them up.
- ``submit`` either takes ``fn`` (it will run) or raises (it never will: no thread could be
  started). An exception escaping ``fn`` is logged; the thread goes on serving. A thread drops
  its reference to ``fn`` before it waits again, so nothing ``fn`` holds outlives its run.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class ThreadPool:
    def __init__(self, name: str, max_threads: int, idle_s: float = 10.0) -> None:
        self.name = name
        self.max_threads = max_threads
        self.idle_s = idle_s
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
            elif self._threads < self.max_threads:
                self._threads += 1
                start = True
            else:
                self._backlog += 1
        if start:
            try:
                threading.Thread(target=self._serve, name=self.name, daemon=True).start()
            except BaseException:  # e.g. no thread to be had: ``fn`` is not taken
                with self._lock:
                    self._threads -= 1
                raise
        self._queue.put(fn)

    def _serve(self) -> None:
        while True:
            try:
                fn = self._queue.get(timeout=self.idle_s)
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
                log.exception("%s: function %r failed", self.name, fn)
            del fn  # what it holds (a call's result) must not outlive it while this thread idles
            with self._lock:
                if self._backlog:
                    self._backlog -= 1  # this thread takes the oldest backlog function next
                else:
                    self._idle += 1

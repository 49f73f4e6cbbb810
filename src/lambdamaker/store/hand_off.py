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
- Threads (a ``ThreadPool`` of ``MAX_THREADS``) are shared by the whole process and started on
  demand; a forked child starts with none.
- ``hand_off`` either takes ``fn`` (it will run) or raises (it never will: no thread could
  be started). An exception escaping ``fn`` is logged; the thread goes on serving.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from lambdamaker.thread_pool import ThreadPool

MAX_THREADS = 16


def _pool() -> ThreadPool:
    return ThreadPool("lambdamaker-hand-off", MAX_THREADS)


_THREADS = _pool()


def _forget_threads() -> None:
    """In a forked child: the parent's threads do not exist there."""
    global _THREADS
    _THREADS = _pool()


os.register_at_fork(after_in_child=_forget_threads)


def hand_off(fn: Callable[[], object]) -> None:
    """Run ``fn()`` on a worker thread (see the module's invariants); returns at once."""
    _THREADS.submit(fn)

"""``run_blocking(fn, *args)``: await a blocking provider operation run on a worker thread.

The gateway runs every provider operation that is neither a coroutine function nor listed in
``inline_operations`` on a worker thread. ``anyio.to_thread.run_sync`` did that at a cost of
several times the hop itself (a capacity limiter, a cancel scope, a ``queue.Queue`` whose
``Condition`` is pure Python, a future chained to a future): about 60 us of CPU per call against
about 40 us for the bare hop, measured on this machine. Here a call is one ``SimpleQueue.put``
and one ``loop.call_soon_threadsafe`` back.

Invariants:

- What anyio guaranteed still holds: each call runs ``fn`` exactly once, in a copy of the
  caller's ``contextvars`` context; at most ``MAX_THREADS`` (anyio's default limit, 40) run at
  once and the rest wait in arrival order; a cancelled caller still waits for its ``fn`` to
  finish before the cancellation propagates, so the request's cleanup (discarding a spooled body
  ``fn`` may be reading) never runs under it.
- The pool is its own, not ``store.hand_off``'s: provider operations may block for long
  (SQS long polls, synchronous Lambda invokes) and must never starve the group commits that
  ``hand_off`` runs.
- Threads (a ``ThreadPool``) start on demand and end after ten seconds without work; they are
  daemon threads, as anyio's are.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from lambdamaker.thread_pool import ThreadPool

T = TypeVar("T")

MAX_THREADS = 40


class _Call:
    """One call in flight. ``done`` and ``finished`` are touched only on the loop's thread."""

    __slots__ = ("args", "context", "done", "error", "finished", "fn", "future", "loop", "result")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.context = contextvars.copy_context()
        self.fn = fn
        self.args = args
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.finished: asyncio.Future[None] | None = None
        """Created by a cancelled caller that waits for ``fn`` to end."""

    def run(self) -> None:
        """On a worker thread."""
        try:
            self.result = self.context.run(self.fn, *self.args)
        except BaseException as exc:
            self.error = exc
        try:
            self.loop.call_soon_threadsafe(self.deliver)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for this call
            pass

    def deliver(self) -> None:
        """On the loop: resolve the caller's future (unless it was cancelled)."""
        self.done = True
        future = self.future
        if not future.done():
            if self.error is not None:
                future.set_exception(self.error)
            else:
                future.set_result(self.result)
        if self.finished is not None and not self.finished.done():
            self.finished.set_result(None)
        self.error = None  # no cycle through the traceback


def _pool() -> ThreadPool:
    return ThreadPool("lambdamaker-operation", MAX_THREADS)


_POOL = _pool()


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a worker thread (see the module's invariants)."""
    call = _Call(asyncio.get_running_loop(), fn, args)
    _POOL.submit(call.run)
    try:
        result: T = await call.future
        return result
    except asyncio.CancelledError:
        if not call.done:
            # As anyio did: the operation runs to its end before the caller unwinds.
            call.finished = call.loop.create_future()
            while not call.finished.done():
                try:
                    await asyncio.shield(call.finished)
                except asyncio.CancelledError:
                    continue
        raise

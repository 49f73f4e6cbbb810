"""Run branch coroutines together; the first failure cancels the rest (Parallel, Map)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any


async def gather_or_fail(coroutines: Sequence[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Results in order; on the first exception the others are cancelled and it is raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    if not tasks:
        return []
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        # Every finished task's exception is retrieved; the first in branch order is raised.
        errors = [task.exception() for task in tasks if task in done and not task.cancelled()]
        for error in errors:
            if error is not None:
                raise error
        return [task.result() for task in tasks]
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)

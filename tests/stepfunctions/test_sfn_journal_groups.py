"""The journal writer's groups beyond plain appends: works (Standard starts) committed in the
group's transaction, a failing work harming nothing else, details orjson cannot encode, and
batched loads of launched executions; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.journal import DurableJournal, JournalWriter, load_events
from lambdamaker.services.stepfunctions.standard_loads import ExecutionLoads, load_many
from lambdamaker.store import Store

MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:m"


@pytest.fixture()
def store(config: PlatformConfig) -> Iterator[Store]:
    from lambdamaker.platform import Platform

    platform = Platform(config, services=["stepfunctions"])
    platform.start()
    try:
        yield platform.store
    finally:
        platform.close()


def execution_values(name: str) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:states:us-east-1:000000000000:execution:m:{name}",
        "account": "000000000000",
        "region": "us-east-1",
        "state_machine_arn": MACHINE,
        "state_machine_name": "m",
        "name": name,
        "status": "RUNNING",
        "input": "{}",
        "start_us": round(datetime.now(UTC).timestamp() * 1_000_000),
        "redrive_count": 0,
        "definition": '{"StartAt": "S0", "States": {}}',
        "role_arn": "arn:aws:iam::000000000000:role/r",
        "logging": "{}",
    }


def insert(name: str) -> Any:
    def work(conn: Connection) -> str:
        values = execution_values(name)
        conn.execute(sa.insert(t.executions).values(**values))
        return str(values["arn"])

    return work


def setup_execution(store: Store, name: str) -> str:
    with store.begin() as conn:
        return str(insert(name)(conn))


def test_works_commit_with_the_group_and_a_failing_work_harms_nothing(store: Store) -> None:
    writer = JournalWriter(store)
    first = setup_execution(store, "first")
    results: dict[str, Any] = {}

    def failing(conn: Connection) -> None:
        conn.execute(sa.insert(t.executions).values(**execution_values("doomed")))
        raise ServiceError("no", code="ExecutionAlreadyExists", status=400)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        journal = DurableJournal(writer, first, [])
        started = writer.submit_work(loop, insert("second"))
        doomed = writer.submit_work(loop, failing)
        event = await journal.append("ExecutionStarted", {"big": 2**70}, previous=0, step="")
        results["event"] = event
        results["second"] = await asyncio.wrap_future(started)
        with pytest.raises(ServiceError):
            await asyncio.wrap_future(doomed)

    try:
        asyncio.run(main())
    finally:
        writer.close()
    with store.read() as conn:
        names = set(conn.execute(sa.select(t.executions.c.name)).scalars())
        events = load_events(conn, first)
    assert names == {"first", "second"}
    assert results["second"].endswith(":second")
    # 2**70 is beyond orjson: the json fallback keeps the value.
    assert [(e.id, e.type, e.details) for e in events] == [(1, "ExecutionStarted", {"big": 2**70})]


def test_a_closed_writer_refuses_works(store: Store) -> None:
    writer = JournalWriter(store)
    writer.close()
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError):
            writer.submit_work(loop, insert("late"))
    finally:
        loop.close()


def test_batched_loads_return_each_row_with_its_events(store: Store) -> None:
    arns = [setup_execution(store, f"l{i}") for i in range(3)]
    writer = JournalWriter(store)

    async def main() -> list[Any]:
        for arn in arns[:2]:
            await DurableJournal(writer, arn, []).append(
                "ExecutionStarted", {}, previous=0, step=""
            )
        loads = ExecutionLoads(store, load_many)
        return list(await asyncio.gather(*(loads.load(a) for a in [*arns, "missing", arns[0]])))

    try:
        loaded = asyncio.run(main())
    finally:
        writer.close()
    assert [row.arn if row is not None else None for row, _ in loaded] == [
        *arns,
        None,
        arns[0],
    ]
    assert [len(events) for _, events in loaded] == [1, 1, 0, 0, 1]

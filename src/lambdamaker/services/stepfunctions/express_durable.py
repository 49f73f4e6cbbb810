"""Express async starts, at least once: ``ExpressLedger`` keeps every accepted asynchronous
Express StartExecution until its execution ends (component ``stepfunctions-express``).

AWS documents Express workflows started asynchronously as at-least-once: an accepted start runs
to its end, possibly more than once. Express executions live in memory, so without a record a
``kill -9`` would lose every accepted one still running. The ledger is that record: the row is
what the execution needs to run again (input, ARN, the machine as it was), nothing of its
progress; a re-run starts from the beginning with the same ARN.

Invariants:
- the row is inserted in the transaction whose commit the 2xx of StartExecution waits for
  (group-committed with concurrent starts), so an answered start is never lost;
- the row is deleted after the execution ended (deletes batched, one transaction per batch); a
  crash between the end and the delete runs the execution again (at-least-once, never zero);
- at start-up every row left is launched again before the server takes requests (``recover``);
- StartSyncExecution records nothing: its caller gets the outcome or an error (at-most-once).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.execution import ExecutionSpec
from lambdamaker.services.stepfunctions.specs import spec_from_row
from lambdamaker.store import Migration, Store
from lambdamaker.store.migrations import create_tables

COMPONENT = "stepfunctions-express"

metadata = sa.MetaData()

pending = sa.Table(
    "sfn_express_pending",
    metadata,
    sa.Column("arn", sa.String(600), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("state_machine_arn", sa.String(512), nullable=False),
    sa.Column("state_machine_name", sa.String(80), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("start_us", sa.BigInteger, nullable=False),
    sa.Column("version_arn", sa.String(600)),
    sa.Column("alias_arn", sa.String(600)),
    # The machine as it was at the start (a re-run must not pick up a later update).
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", sa.String(2048), nullable=False),
    sa.Column("logging", sa.Text),
)

MIGRATIONS: list[Migration] = [
    Migration(COMPONENT, 1, create_tables(pending), "accepted Express async starts"),
]

_INSERT = sa.insert(pending)
_DELETE = sa.delete(pending).where(pending.c.arn.in_(sa.bindparam("arns", expanding=True)))


@dataclass
class PendingStart:
    """One accepted start to run again: its spec, input text and logging configuration."""

    spec: ExecutionSpec
    input_text: str
    logging: dict[str, Any]


def _us(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


class ExpressLedger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._done: list[str] = []
        self._flushing = False

    def record(
        self,
        conn: Connection,
        spec: ExecutionSpec,
        input_text: str,
        definition: str,
        logging: dict[str, Any] | None,
    ) -> None:
        """Insert the start's row in ``conn``'s transaction (StartExecution's)."""
        conn.execute(
            _INSERT,
            {
                "arn": spec.execution_arn,
                "account": spec.account_id,
                "region": spec.region,
                "state_machine_arn": spec.state_machine_arn,
                "state_machine_name": spec.state_machine_name,
                "name": spec.name,
                "input": input_text,
                "start_us": _us(spec.start_time),
                "version_arn": spec.state_machine_version_arn,
                "alias_arn": spec.state_machine_alias_arn,
                "definition": definition,
                "role_arn": spec.role_arn,
                "logging": json.dumps(logging or {}),
            },
        )

    def done(self, arn: str) -> None:
        """The execution ``arn`` ended: delete its row soon (batched; call on the runner's
        loop)."""
        self._done.append(arn)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._done:
                batch, self._done = self._done[:500], self._done[500:]
                await loop.run_in_executor(None, self._delete, batch)
        finally:
            self._flushing = False

    def _delete(self, arns: list[str]) -> None:
        with self.store.begin() as conn:
            conn.execute(_DELETE, {"arns": arns})

    def pending(self) -> list[PendingStart]:
        """Every accepted start whose execution has not ended, oldest first."""
        with self.store.read() as conn:
            rows = list(conn.execute(sa.select(pending).order_by(pending.c.start_us)))
        return [
            PendingStart(
                spec=spec_from_row(row, "EXPRESS"),
                input_text=row.input,
                logging=json.loads(row.logging or "{}"),
            )
            for row in rows
        ]

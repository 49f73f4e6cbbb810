"""An execution's ``ExecutionSpec`` from what the store keeps of it.

The executions table (Standard) and the Express ledger of accepted async starts keep the same
columns for it; definitions are parsed once per text and shared (the engine never mutates one).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from lambdamaker.engines.workflows.execution import ExecutionSpec


@functools.lru_cache(maxsize=256)
def parsed_definition(text: str) -> dict[str, Any]:
    """A definition's parsed JSON, shared by the executions that run it (parsing a large
    definition costs more than running it)."""
    return dict(json.loads(text))


def spec_from_row(row: Any, type_: str, redrive_count: int = 0) -> ExecutionSpec:
    return ExecutionSpec(
        execution_arn=row.arn,
        state_machine_arn=row.state_machine_arn,
        state_machine_name=row.state_machine_name,
        name=row.name,
        definition=parsed_definition(row.definition),
        input=json.loads(row.input),
        start_time=datetime.fromtimestamp(row.start_us / 1_000_000, UTC),
        role_arn=row.role_arn,
        region=row.region,
        account_id=row.account,
        type=type_,
        redrive_count=redrive_count,
        state_machine_version_arn=row.version_arn,
        state_machine_alias_arn=row.alias_arn,
    )

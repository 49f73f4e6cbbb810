"""``StepFunctionsProvider``: every group of Step Functions operations composed into one
``Provider``, and its start-up (recovery) and shutdown."""

from __future__ import annotations

from lambdamaker.services.stepfunctions.activities import ActivityOperations
from lambdamaker.services.stepfunctions.callbacks import CallbackOperations
from lambdamaker.services.stepfunctions.execution_tables import MIGRATIONS as EXECUTION_MIGRATIONS
from lambdamaker.services.stepfunctions.executions import ExecutionOperations
from lambdamaker.services.stepfunctions.express_durable import MIGRATIONS as EXPRESS_MIGRATIONS
from lambdamaker.services.stepfunctions.map_run_operations import MapRunOperations
from lambdamaker.services.stepfunctions.state_machines import StateMachineOperations
from lambdamaker.services.stepfunctions.tables import MIGRATIONS
from lambdamaker.services.stepfunctions.test_state import TestStateOperations


class StepFunctionsProvider(
    StateMachineOperations,
    ActivityOperations,
    MapRunOperations,
    ExecutionOperations,
    CallbackOperations,
    TestStateOperations,
):
    """AWS Step Functions on the platform's store and the workflows engine."""

    service = "stepfunctions"
    migrations = [*MIGRATIONS, *EXECUTION_MIGRATIONS, *EXPRESS_MIGRATIONS]
    # Single-row metadata reads: cheaper on the loop than the hop to a worker thread.
    inline_operations = frozenset(
        {"DescribeStateMachine", "DescribeStateMachineAlias", "DescribeActivity"}
    )
    closes_first = True

    def start(self) -> None:
        # The runner thread, then every RUNNING Standard execution resumed from its history.
        self.sfn_runtime.start()

    def close(self) -> None:
        self.sfn_runtime.close()

"""AWS Step Functions (``stepfunctions``, API version 2016-11-23) on the workflows engine.

Modules:
- ``provider``         the operation groups composed into ``StepFunctionsProvider``; start-up
                       recovery of Standard executions.
- ``tables``           state machines, versions, aliases, activities, tags.
- ``state_machines``   Create/Update/Delete/Describe/List state machines, versions, aliases,
                       ValidateStateMachineDefinition, tags.
- ``activities``       Create/Delete/Describe/ListActivities.
- ``execution_tables`` executions, history events, task tokens, activity tasks, map runs.
- ``executions``       Start/StartSync/Stop/Redrive/Describe/ListExecutions, GetExecutionHistory,
                       DescribeStateMachineForExecution, map runs, TestState.
- ``runner``           the loop thread executions run on; the durable journal (group commit).
- ``callbacks``        task tokens (SendTaskSuccess/Failure/Heartbeat), GetActivityTask.
- ``integrations/``    what Task resources do: Lambda, SQS, SNS, DynamoDB, EventBridge, nested
                       executions, ``aws-sdk:*``, and the Step Functions Local mock config.

Invariants:
- an invalid definition never reaches the runtime: Create/Update run ``engines.workflows.
  validation`` first and store nothing on error;
- a 2xx from StartExecution means the execution row and its ExecutionStarted event are
  committed; after ``kill -9`` every RUNNING Standard execution resumes from its history and no
  event is appended twice;
- Express executions live in memory only (and in CloudWatch Logs when logging is configured).
"""

from lambdamaker.services.stepfunctions.provider import StepFunctionsProvider

__all__ = ["StepFunctionsProvider"]

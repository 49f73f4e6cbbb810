"""AWS Step Functions (``stepfunctions``, API version 2016-11-23) on the workflows engine.

Modules:
- ``provider``         the operation groups composed into ``StepFunctionsProvider``; start-up
                       recovery of Standard executions.
- ``tables``           state machines, versions, aliases, activities, tags; ``common`` (errors,
                       ARNs, paging, names).
- ``state_machines``   Create/Update/Delete/Describe/List state machines, ValidateStateMachine-
                       Definition (``definitions``); ``versions``, ``aliases``, ``tags``;
                       ``machines.resolve_for_execution`` (machine / version / alias ARN -> what
                       runs); ``variable_refs``.
- ``activities``       Create/Delete/Describe/ListActivities.
- ``execution_tables`` executions, history events, task tokens, activity tasks, map runs.
- ``executions``       Start/StartSync/Stop/Redrive executions, ``await_execution``;
                       ``execution_reads`` Describe/List, GetExecutionHistory,
                       DescribeStateMachineForExecution.
- ``launch``           ``ExecutionRuntime``: launching, recovery at start-up, Express runs, the
                       integration registry; ``runner`` the loop thread executions run on.
- ``journal``          the durable journal (appends of all executions group-committed, terminal
                       events update the execution row, the 25,000-event cap) and replay.
- ``tokens``           the durable task-token broker; ``callbacks`` SendTaskSuccess/Failure/
                       Heartbeat and GetActivityTask; ``notifier`` wakes long polls.
- ``express_logs``     Express executions' events to CloudWatch Logs.
- ``test_state``       TestState (one state run alone, with inspection data).
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

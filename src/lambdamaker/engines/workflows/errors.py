"""The run-time error of ASL: an error name and a cause, as Catch/Retry and Fail see them."""

from __future__ import annotations

ALL = "States.ALL"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
RUNTIME = "States.Runtime"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"

# Errors that States.ALL does not catch (AWS: "States.ALL ... does not match
# States.DataLimitExceeded and States.Runtime").
NOT_CAUGHT_BY_ALL = frozenset({"States.DataLimitExceeded", RUNTIME})


class StatesError(Exception):
    """An ASL run-time error: ``error`` is the name Retry/Catch match, ``cause`` the text.

    ``None`` for either is a field the failure did not have (SendTaskFailure without ``error``
    or ``cause``): ``error``/``cause`` are then ``""`` and the error output a Catch writes,
    ``output()``, has ``null`` there, as on AWS. ``heartbeat`` marks a missed heartbeat: AWS
    names it ``States.Timeout`` in the history and the execution's error, while Retry/Catch
    ``States.HeartbeatTimeout`` takes it too (``also_matches``).

    ``terminal``: ``States.ALL`` does not take it (default: the names in ``NOT_CAUGHT_BY_ALL``).
    A Task whose integration returned more than the payload quota fails with
    ``States.DataLimitExceeded`` that is not terminal: AWS's recordings show ``States.ALL``
    catching it there, while an oversized state input or output stays terminal."""

    def __init__(
        self,
        error: str | None,
        cause: str | None = "",
        *,
        heartbeat: bool = False,
        terminal: bool | None = None,
    ) -> None:
        super().__init__(f"{error}: {cause}" if cause else (error or ""))
        self.error = error or ""
        self.cause = cause or ""
        self.null_error = error is None
        self.null_cause = cause is None
        self.also_matches: tuple[str, ...] = (HEARTBEAT_TIMEOUT,) if heartbeat else ()
        self.terminal = self.error in NOT_CAUGHT_BY_ALL if terminal is None else terminal

    def output(self) -> dict[str, str | None]:
        """The error output a Catch passes on: ``{"Error": ..., "Cause": ...}``."""
        return {
            "Error": None if self.null_error else self.error,
            "Cause": None if self.null_cause else self.cause,
        }

"""Conformance cases not passed yet, each with a one-line reason. The goal is an empty dict.

Measured by replaying every case (``test_sfn_conformance``; ``SFN_CONFORMANCE_ALL=1`` runs these
too, to see which pass by now). A reason names what is missing, or why AWS's recording cannot
be matched (two recordings of the same behaviour that contradict each other: the older one is
listed). Cases using other services get the resources their original test created
(``conformance_resources``). Ids are under ``tests/aws/services/stepfunctions/v2/``.
"""

from __future__ import annotations

_V2 = "tests/aws/services/stepfunctions/v2/"

SYNC_BEFORE_REDRIVE = (
    "recorded mid-2023, before AWS added RedriveCount/RedriveStatus to DescribeExecution; "
    "the 2024 credentials recordings of startExecution.sync have them, as this platform does"
)
HEADER_CASE = (
    "AWS's getItem response here spelled its header 'x-amzn-requestid'; every other DynamoDB "
    "recording (getItem included) has 'x-amzn-RequestId', as this platform sends"
)
NO_SECRETS_MANAGER = (
    "no Secrets Manager on the platform: aws-sdk:secretsmanager:listSecrets has nothing to call"
)

_BY_REASON: dict[str, list[str]] = {
    SYNC_BEFORE_REDRIVE: [
        "callback/test_callback.py::TestCallback::test_start_execution_sync",
        "callback/test_callback.py::TestCallback::test_start_execution_sync_delegate_failure",
    ],
    HEADER_CASE: [
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_GET_ITEM]",
    ],
    NO_SECRETS_MANAGER: [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_list_secrets",
    ],
}

SKIPS: dict[str, str] = {
    _V2 + case: reason for reason, cases in _BY_REASON.items() for case in cases
}

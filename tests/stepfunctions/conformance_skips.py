"""Conformance cases not passed yet, each with a one-line reason. The goal is an empty dict.

Measured by replaying every case (``test_sfn_conformance``; ``SFN_CONFORMANCE_ALL=1`` runs these
too, to see which pass by now). A reason names what is missing; the case comes off the list when
that lands. Cases using other services get the resources their original test created
(``conformance_resources``). Ids are under ``tests/aws/services/stepfunctions/v2/``.
"""

from __future__ import annotations

_V2 = "tests/aws/services/stepfunctions/v2/"

LAMBDA_TRACE_PATH = "Lambda's error stackTrace names the host code dir, AWS names /var/task/handler.py (functions bootstrap/handler.py)"
LABEL_REQUEST_ID = "expected SdkResponseMetadata.RequestId is the snapshot label 'RequestId', not in conformance_support.LABELS"
ITEM_READER_S3 = "Map ItemReader gets no S3 access from the service yet ('No S3 access is configured for ItemReader.')"
S3_GET_METADATA = (
    'aws-sdk:s3:getObject result lacks "Metadata": {} (AWS\'s SDK result always has it)'
)
EMPTY_TASK_FAILURE = 'SendTaskFailure without error/cause gives Error/Cause ""; AWS gives null'
HEARTBEAT_TIMEOUT_NAME = "a heartbeat timeout fails the execution with States.HeartbeatTimeout; AWS reports States.Timeout"
LABEL_QUEUE_URL = (
    "expected QueueUrl is the snapshot label 'sqs_queue_url', not in conformance_support.LABELS"
)
LABEL_TABLE_NAME = (
    "expected TableName is the snapshot label 'table-name', not in conformance_support.LABELS"
)
SYNC_DATES_NUMBERS = "result StartDate/StopDate are epoch numbers; the recording's '<start-date>' placeholder only matches strings in conformance_support"
SYNC_REDRIVE_FIELDS = "startExecution.sync result has RedriveCount/RedriveStatus*; AWS's older recording of this case has none (the credentials cases have them)"
SYNC_TASK_TOKEN = "$$.Task.Token is not in the context object of a startExecution.sync Task (only .waitForTaskToken gets one)"
RESULT_WRITER_S3 = "Map ResultWriter gets no S3 access from the service yet ('No S3 access is configured for ResultWriter.')"
DATA_LIMIT_CATCH = "States.DataLimitExceeded from a legacy Lambda resource is not caught by Catch States.ALL as on AWS"
SDK_ATTEMPT_COUNT = "aws-sdk error cause lacks AWS's ' (SDK Attempt Count: 1)' suffix"
DYNAMODB_TABLE_NAME_VALIDATION = "dynamodb:putItem with an invalid table name gives ResourceNotFound; AWS gives DynamoDB.AmazonDynamoDBException (ValidationException on the name pattern)"
LABEL_TABLE_NAME_AND_HEADER_CASE = "label 'table-name' not in conformance_support.LABELS; AWS recorded getItem's header as 'x-amzn-requestid' here only"
NO_SECRETS_MANAGER = (
    "no Secrets Manager on the platform: aws-sdk:secretsmanager:listSecrets has nothing to call"
)

_BY_REASON: dict[str, list[str]] = {
    LAMBDA_TRACE_PATH: [
        "credentials/test_credentials_base.py::TestCredentialsBase::test_cross_account_service_lambda_invoke_retry",
        "error_handling/test_task_lambda.py::TestTaskLambda::test_no_such_function",
        "error_handling/test_task_lambda.py::TestTaskLambda::test_raise_custom_exception",
        "error_handling/test_task_lambda.py::TestTaskLambda::test_raise_exception",
        "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::test_raise_exception",
        "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::test_raise_exception_catch_output_path[$.no.such.path]",
        "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::test_raise_exception_catch_output_path[None]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_lambda_empty_retry",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_lambda_invoke_with_retry_base",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_retry_interval_features",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_retry_interval_features_jitter_none",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_catch_error_variable_sampling[TASK_CATCH_ERROR_VARIABLE_SAMPLING_TO_JSONPATH]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_task_catch_error_output[TASK_CATCH_ERROR_OUTPUT_TO_JSONPATH]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_task_catch_error_with_retry[TASK_CATCH_ERROR_OUTPUT_WITH_RETRY]",
        "states_variables/test_error_output.py::TestStateVariablesTemplate::test_task_catch_error_with_retry[TASK_CATCH_ERROR_OUTPUT_WITH_RETRY_TO_JSONPATH]",
    ],
    LABEL_REQUEST_ID: [
        "local_mocking/test_base_scenarios.py::TestBaseScenarios::test_lambda_service_invoke",
        "local_mocking/test_base_scenarios.py::TestBaseScenarios::test_sns_publish_base",
        "services/test_lambda_task_service.py::TestTaskServiceLambda::test_invoke_bytes_payload",
        "services/test_lambda_task_service.py::TestTaskServiceLambda::test_invoke_json_values[0.0]",
        "services/test_lambda_task_service.py::TestTaskServiceLambda::test_invoke_json_values[json_value5]",
        "services/test_lambda_task_service.py::TestTaskServiceLambda::test_invoke_json_values[json_value6]",
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_base[HelloWorld]",
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_base[True]",
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_base[]",
        'services/test_sns_task_service.py::TestTaskServiceSns::test_publish_message_attributes["HelloWorld"]',
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_message_attributes[HelloWorld]",
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_message_attributes[message_value3]",
        "services/test_sns_task_service.py::TestTaskServiceSns::test_publish_message_attributes[{}]",
        "services/test_sqs_task_service.py::TestTaskServiceSqs::test_send_message",
        "services/test_sqs_task_service.py::TestTaskServiceSqs::test_send_message_unsupported_parameters",
    ],
    ITEM_READER_S3: [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_base_csv_headers_decl",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_base_csv_headers_first_line",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_base_json",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_base_json_with_items_path[INVALID_ITEMS_PATH]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_csv_headers_decl_duplicate_headers",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_csv_headers_decl_extra_fields",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_csv_max_items[0]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_csv_max_items[100000000]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_csv_max_items_paths[2]",
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_item_reader_json_no_json_list_object",
    ],
    S3_GET_METADATA: [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_s3_get_object[binary]",
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_s3_get_object[bytearray]",
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_s3_get_object[empty_binary]",
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_s3_get_object[empty_str]",
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_s3_get_object[str]",
    ],
    EMPTY_TASK_FAILURE: [
        "callback/test_callback.py::TestCallback::test_sqs_failure_in_wait_for_task_tok_no_error_field[SQS_PARALLEL_WAIT_FOR_TASK_TOKEN]",
        "callback/test_callback.py::TestCallback::test_sqs_failure_in_wait_for_task_tok_no_error_field[SQS_WAIT_FOR_TASK_TOKEN_CATCH]",
    ],
    HEARTBEAT_TIMEOUT_NAME: [
        "timeouts/test_heartbeats.py::TestHeartbeats::test_heartbeat_no_timeout",
        "timeouts/test_heartbeats.py::TestHeartbeats::test_heartbeat_path_timeout",
    ],
    LABEL_QUEUE_URL: [
        "callback/test_callback.py::TestCallback::test_sqs_wait_for_task_token_call_chain",
        "local_mocking/test_base_callbacks.py::TestBaseScenarios::test_sqs_wait_for_task_token_task_failure",
    ],
    LABEL_TABLE_NAME: [
        "local_mocking/test_base_scenarios.py::TestBaseScenarios::test_dynamodb_put_get_item",
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_QUERY]",
    ],
    SYNC_DATES_NUMBERS: [
        "credentials/test_credentials_base.py::TestCredentialsBase::test_cross_account_states_start_sync_execution[SFN_START_EXECUTION_SYNC_ROLE_ARN_PATH_CONTEXT]",
        "credentials/test_credentials_base.py::TestCredentialsBase::test_cross_account_states_start_sync_execution[SFN_START_EXECUTION_SYNC_ROLE_ARN_VARIABLE]",
    ],
    SYNC_REDRIVE_FIELDS: [
        "callback/test_callback.py::TestCallback::test_start_execution_sync",
        "callback/test_callback.py::TestCallback::test_start_execution_sync_delegate_failure",
    ],
    SYNC_TASK_TOKEN: [
        "callback/test_callback.py::TestCallback::test_sync_with_task_token",
    ],
    RESULT_WRITER_S3: [
        "scenarios/test_base_scenarios.py::TestBaseScenarios::test_map_state_result_writer",
    ],
    DATA_LIMIT_CATCH: [
        "error_handling/test_states_errors.py::TestStatesErrors::test_task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response",
    ],
    SDK_ATTEMPT_COUNT: [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_sfn_send_task_outcome_with_no_such_token[state_machine_template1]",
    ],
    DYNAMODB_TABLE_NAME_VALIDATION: [
        "error_handling/test_task_service_dynamodb.py::TestTaskServiceDynamoDB::test_put_item_invalid_table_name",
    ],
    LABEL_TABLE_NAME_AND_HEADER_CASE: [
        "services/test_dynamodb_task_service.py::TestTaskServiceDynamoDB::test_base_integrations[DYNAMODB_PUT_GET_ITEM]",
    ],
    NO_SECRETS_MANAGER: [
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::test_list_secrets",
    ],
}

SKIPS: dict[str, str] = {
    _V2 + case: reason for reason, cases in _BY_REASON.items() for case in cases
}

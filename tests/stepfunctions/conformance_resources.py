"""The AWS resources a recorded Step Functions case needs, recreated as its original test did.

A case with ``needs.pure == false`` names resources its original LocalStack test created before
the execution (``../shared/conformance/README.md``): placeholders such as
``<create_lambda_function>()_CreateFunctionResponse_FunctionArn``, ``<sqs_create_queue>()``,
``<sns_create_topic>()_TopicArn``, ``<s3_create_bucket>()``, ``<create_activity>()_activityArn``,
``<events_to_sqs_queue>()``, and plain names in the input (``"FunctionName": "lambda_func_…"``,
``"TableName": "sfn_test_table_…"``) that the test created under exactly that name.

``prepare_case(case, client, tmp)`` creates them through boto3 and returns the definition and
input with the placeholders replaced, or a one-line reason why the case cannot be prepared here.
``start_helpers(case, client, definition, input)`` starts what the original test ran beside the
execution (an activity worker, an SQS consumer answering task tokens) and returns a stop
function. The runner calls, per case: ``prepare_case`` → CreateStateMachine → ``start_helpers``
→ StartExecution, and every stop function once all executions finished.

The ``local_mocking`` cases get real resources too: their recorded outcomes come from the
tests' AWS branch (``is_aws_cloud()``: real function, topic, table, queue), not from the mock
config, whose responses lack what AWS returned (``SdkHttpMetadata``, ...). The mock-config
format itself is covered by ``test_sfn_mock_config.py``.

Invariants: what is created depends only on the case's test (its id: file and test name) and
on the names in its input, the way the original test's setup did; expected values are never
read or changed here. Function sources are small handlers written here, equivalent to the
originals (``handler.py``, so Lambda's stack traces name ``/var/task/handler.py`` as on AWS).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdamaker.testing import zip_files

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-role"
SFN_ROLE = "arn:aws:iam::000000000000:role/sfn-conformance"
LAMBDA_ARN = "<create_lambda_function>()_CreateFunctionResponse_FunctionArn"
FAKE_MACHINE = "arn:aws:states:us-east-1:111111111111:stateMachine:fake"

# Handler sources (module handler.py). Line numbers matter: AWS's recorded stack traces name them.
ID_FUNCTION = "def handler(event, context):\n    return event\n"
RAISE_EXCEPTION = (
    'def handler(event, context):\n    raise Exception("Some exception was raised.")\n'
)
RAISE_CUSTOM = (
    "class CustomException(Exception):\n"
    "    message: str\n"
    "\n"
    "    def __init__(self):\n"
    '        self.message = "CustomException message"\n'
    "\n"
    "\n"
    "def handler(event, context):\n"
    "    raise CustomException()\n"
)
RETURN_BYTES = 'def handler(event, context):\n    return "HelloWorld!"\n'
LARGE_UTF8 = 'def handler(event, context):\n    return "\\u00e9" * 200_000\n'
WAIT_SECONDS = (
    "import time\n\n\ndef handler(event, context):\n    time.sleep(15)\n    return event\n"
)

# Which handler a test's functions run (by "<file stem>::<test name>", else by file stem).
FUNCTION_KIND: dict[str, str] = {
    "test_task_lambda::test_raise_custom_exception": RAISE_CUSTOM,
    "test_task_lambda": RAISE_EXCEPTION,
    "test_task_service_lambda": RAISE_EXCEPTION,
    "test_error_output": RAISE_EXCEPTION,
    "test_credentials_base::test_cross_account_service_lambda_invoke_retry": RAISE_EXCEPTION,
    "test_base_scenarios::test_lambda_invoke_with_retry_base": RAISE_EXCEPTION,
    "test_base_scenarios::test_lambda_empty_retry": RAISE_EXCEPTION,
    "test_base_scenarios::test_retry_interval_features": RAISE_EXCEPTION,
    "test_base_scenarios::test_retry_interval_features_jitter_none": RAISE_EXCEPTION,
    "test_lambda_task::test_invoke_bytes_payload": RETURN_BYTES,
    "test_lambda_task_service::test_invoke_bytes_payload": RETURN_BYTES,
    "test_states_errors": LARGE_UTF8,
    "test_timeouts": WAIT_SECONDS,
}

CSV_WITH_HEADER = (
    "Col1,Col2,Col3\nValue1,Value2,Value3\nValue4,Value5,Value6\n,,\n"
    "true,1,'HelloWorld'\nNull,None,\n   ,,\n"
)
CSV_NO_HEADER = (
    "Value1,Value2,Value3\nValue4,Value5,Value6\n,,\ntrue,1,'HelloWorld'\nNull,None,\n   ,,\n"
)
CSV_MAX_ITEMS = "Col1,Col2\nValue1,Value2\nValue3,Value4\nValue5,Value6\nValue7,Value8\n"
JSON_LIST = json.dumps(
    [
        {"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"},
        {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"},
        {"verdict": "mostly-true", "statement_date": "5/18/2016", "statement_source": "news"},
    ]
)
# Objects the item-reader and getObject tests put in their bucket, by test (and parameter).
BUCKET_OBJECTS: dict[str, dict[str, bytes]] = {
    "test_map_item_reader_base_csv_headers_first_line": {"file.csv": CSV_WITH_HEADER.encode()},
    "test_map_item_reader_base_csv_headers_decl": {"file.csv": CSV_NO_HEADER.encode()},
    "test_map_item_reader_csv_headers_decl_duplicate_headers": {"file.csv": CSV_NO_HEADER.encode()},
    "test_map_item_reader_csv_headers_decl_extra_fields": {"file.csv": CSV_NO_HEADER.encode()},
    "test_map_item_reader_csv_max_items": {"file.csv": CSV_MAX_ITEMS.encode()},
    "test_map_item_reader_csv_max_items_paths": {"file.csv": CSV_MAX_ITEMS.encode()},
    "test_map_item_reader_base_json": {"file.json": JSON_LIST.encode()},
    "test_map_item_reader_json_no_json_list_object": {
        "file.json": json.dumps({"Hello": "World"}).encode()
    },
    "test_map_item_reader_base_json_with_items_path": {
        "file.json": json.dumps([["from-bucket-item-0"]]).encode()
    },
    "test_s3_get_object[empty_str]": {"file_key": b""},
    "test_s3_get_object[str]": {"file_key": b"text data"},
    "test_s3_get_object[empty_binary]": {"file_key": b""},
    "test_s3_get_object[binary]": {"file_key": b"binary data"},
    "test_s3_get_object[bytearray]": {"file_key": b"byte array data"},
}

# Target state machines of the nested-execution tests (BaseTemplate / ServicesTemplates).
PASS_RESULT = {
    "Comment": "BASE_PASS_RESULT",
    "StartAt": "State_1",
    "States": {"State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
}
RAISE_FAILURE = {
    "Comment": "BASE_RAISE_FAILURE",
    "StartAt": "FailState",
    "States": {
        "FailState": {
            "Type": "Fail",
            "Error": "SomeFailure",
            "Cause": "This state machines raises a 'SomeFailure' failure.",
        }
    },
}
SQS_SEND_MESSAGE_AND_WAIT = {
    "Comment": "SQS_SEND_MESSAGE_AND_WAIT",
    "StartAt": "SendSQS",
    "States": {
        "SendSQS": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl.$": "$.QueueUrl",
                "MessageBody": {
                    "Message": "SQS_SEND_MESSAGE_AND_WAIT",
                    "TaskToken.$": "$.TaskToken",
                },
            },
            "Next": "WaitState",
        },
        "WaitState": {"Type": "Wait", "Seconds": 60, "End": True},
    },
}
TARGET_MACHINES: dict[str, dict[str, Any]] = {
    "test_start_execution_sync": PASS_RESULT,
    "test_start_execution_sync_delegate_failure": RAISE_FAILURE,
    "test_sync_with_task_token": SQS_SEND_MESSAGE_AND_WAIT,
    "test_cross_account_states_start_sync_execution": PASS_RESULT,
}

# What the SQS task-token consumer of a test answers: the sqs_send_task_success /
# sqs_send_task_failure fixtures, or the bare SendTaskFailure of the no-error-field test.
SUCCESS, FAILURE, EMPTY_FAILURE = "success", "failure", "empty_failure"
TOKEN_CONSUMERS: dict[str, str] = {
    "test_callback::test_sqs_wait_for_task_token": SUCCESS,
    "test_callback::test_sqs_wait_for_task_token_call_chain": SUCCESS,
    "test_callback::test_sync_with_task_token": SUCCESS,
    "test_callback::test_sqs_failure_in_wait_for_task_token": FAILURE,
    "test_callback::test_sqs_failure_in_wait_for_task_tok_no_error_field": EMPTY_FAILURE,
    "test_task_service_sqs::test_sqs_failure_in_wait_for_task_tok": FAILURE,
    "test_base_callbacks::test_sqs_wait_for_task_token": SUCCESS,
    "test_base_callbacks::test_sqs_wait_for_task_token_task_failure": FAILURE,
}

# Services this platform does not have, by the aws-sdk resource naming them.
MISSING_SERVICES = {
    "secretsmanager": "the platform has no Secrets Manager (aws-sdk:secretsmanager)"
}

_NAME_FIELDS = {"FunctionName": "function", "TableName": "table"}
Client = Callable[[str], Any]


def case_keys(case: dict[str, Any]) -> tuple[str, str, str]:
    """(file stem, test name, test name with its parameter) of a case id."""
    path, *_, test = case["id"].split("::")
    stem = Path(path).stem
    return stem, test.split("[", 1)[0], test


def _lookup(table: dict[str, Any], case: dict[str, Any], *, param: bool = False) -> Any:
    stem, test, full = case_keys(case)
    keys = (
        [f"{stem}::{full}", f"{stem}::{test}", full, test, stem]
        if param
        else [
            f"{stem}::{test}",
            test,
            stem,
        ]
    )
    for key in keys:
        if key in table:
            return table[key]
    return None


def prepare_case(case: dict[str, Any], client: Client, tmp: Path) -> tuple[str, str] | str:
    """Create what the case's original test created; (definition, input) with the
    placeholders replaced, or a one-line reason why this case cannot be prepared. ``tmp`` is
    scratch space for files a setup writes (none of today's cases needs one)."""
    definition: str = case["definition"]
    text: str = case["input"] or "{}"
    for service, reason in MISSING_SERVICES.items():
        if f"aws-sdk:{service}:" in definition:
            return reason
    replacements: dict[str, str] = {}
    everything = definition + text
    try:
        names = _input_names(text)
        if LAMBDA_ARN in everything or names["function"]:
            source = _lookup(FUNCTION_KIND, case) or ID_FUNCTION
            arns = [_function(client, name, source) for name in names["function"]]
            if LAMBDA_ARN in everything:
                replacements[LAMBDA_ARN] = arns[0] if arns else _function(client, None, source)
        for table in names["table"]:
            _table(client, table)
        if "<sqs_create_queue>()" in everything:
            replacements["<sqs_create_queue>()"] = _queue(client)
        if "<events_to_sqs_queue>()" in everything:
            replacements["<events_to_sqs_queue>()"] = _events_queue(client)
        if "<sns_create_topic>()_TopicArn" in everything:
            topic = client("sns").create_topic(Name=f"sfn-conf-{uuid.uuid4().hex[:8]}")
            if case_keys(case)[1] == "test_publish_base_error_topic_arn":
                # The original test deletes the topic before publishing to it.
                client("sns").delete_topic(TopicArn=topic["TopicArn"])
            replacements["<sns_create_topic>()_TopicArn"] = topic["TopicArn"]
        if "<s3_create_bucket>()" in everything:
            replacements["<s3_create_bucket>()"] = _bucket(client, case)
        if '"Bucket": "result-bucket"' in definition:
            _ensure_bucket(client, "result-bucket")
        if "<create_activity>()_activityArn" in everything:
            activity = client("stepfunctions").create_activity(
                name=f"sfn-conf-{uuid.uuid4().hex[:8]}"
            )
            replacements["<create_activity>()_activityArn"] = activity["activityArn"]
        if "<create_cross_account_admin_role_and_policy>()" in everything:
            replacements["<create_cross_account_admin_role_and_policy>()"] = _admin_role(client)
        target = _lookup(TARGET_MACHINES, case)
        if target is not None and FAKE_MACHINE in text:
            machine = client("stepfunctions").create_state_machine(
                name=f"sfn-conf-target-{uuid.uuid4().hex[:8]}",
                definition=json.dumps(target),
                roleArn=SFN_ROLE,
            )
            replacements[FAKE_MACHINE] = machine["stateMachineArn"]
    except Exception as error:  # any setup failure is this case's reason
        return f"setup failed: {type(error).__name__}: {str(error)[:200]}"
    for placeholder, value in replacements.items():
        definition = definition.replace(placeholder, value)
        text = text.replace(placeholder, value)
    return definition, text


def _input_names(text: str) -> dict[str, list[str]]:
    """Function and table names the input names (the test created them under those names),
    except the ``no_such_…``/invalid ones the test made sure do not exist."""
    found: dict[str, list[str]] = {"function": [], "table": []}
    try:
        document = json.loads(text)
    except ValueError:
        return found

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                kind = _NAME_FIELDS.get(key)
                if (
                    kind
                    and isinstance(value, str)
                    and re.fullmatch(r"[A-Za-z0-9_.-]+", value)
                    and not value.startswith("no_such")
                    and value not in found[kind]
                ):
                    found[kind].append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


def _function(client: Client, name: str | None, source: str) -> str:
    lam = client("lambda")
    name = name or f"sfn_conf_{uuid.uuid4().hex[:8]}"
    try:
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=LAMBDA_ROLE,
            Handler="handler.handler",
            Code={"ZipFile": zip_files({"handler.py": source})},
            Timeout=60,
        )["FunctionArn"]
    except lam.exceptions.ResourceConflictException:
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return arn


def _table(client: Client, name: str) -> None:
    ddb = client("dynamodb")
    try:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ddb.exceptions.ResourceInUseException:
        pass
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


def _queue(client: Client) -> str:
    url: str = client("sqs").create_queue(QueueName=f"sfn-conf-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return url


def _events_queue(client: Client) -> str:
    """The events_to_sqs_queue fixture: a queue behind a rule on the default bus."""
    sqs, events = client("sqs"), client("events")
    url = _queue(client)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"sfn-conf-rule-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["some.source"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _ensure_bucket(client: Client, name: str) -> None:
    s3 = client("s3")
    try:
        s3.create_bucket(Bucket=name)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass


def _bucket(client: Client, case: dict[str, Any]) -> str:
    name = f"sfn-conf-{uuid.uuid4().hex[:12]}"
    _ensure_bucket(client, name)
    for key, body in (_lookup(BUCKET_OBJECTS, case, param=True) or {}).items():
        client("s3").put_object(Bucket=name, Key=key, Body=body)
    return name


def _admin_role(client: Client) -> str:
    """A role Step Functions may assume for the Task's Credentials (the original made it in a
    second account; here it lives in the caller's own account)."""
    iam = client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(
        RoleName=f"sfn-conf-admin-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(trust),
    )["Role"]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="admin",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    arn: str = role["Arn"]
    return arn


def start_helpers(
    case: dict[str, Any], client: Client, definition: str, text: str
) -> Callable[[], None]:
    """Start the workers the original test ran beside this execution (after
    CreateStateMachine, before StartExecution); the returned function stops them."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    consumer = _lookup(TOKEN_CONSUMERS, case)
    if consumer is not None:
        url = json.loads(text).get("QueueUrl")
        if isinstance(url, str):
            threads.append(
                threading.Thread(
                    target=_answer_tokens, args=(client, url, consumer, stop), daemon=True
                )
            )
    activity = re.search(r"arn:aws:states:[^\"]*:activity:[^\"]+", definition)
    if activity is not None:
        # test_activity_task_no_worker_name polls without a worker name.
        worker = None if case_keys(case)[1].endswith("no_worker_name") else "worker"
        threads.append(
            threading.Thread(
                target=_work_activity,
                args=(client, activity.group(0), worker, stop),
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()

    def halt() -> None:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)

    return halt


def _answer_tokens(client: Client, url: str, mode: str, stop: threading.Event) -> None:
    """Answer each task token sent to the queue, as the sqs_send_task_* fixtures do."""
    sqs, sfn = client("sqs"), client("stepfunctions")
    while not stop.is_set():
        try:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                body = json.loads(message["Body"])
                token = body["TaskToken"]
                if mode == SUCCESS:
                    sfn.send_task_success(taskToken=token, output=json.dumps(body["Message"]))
                elif mode == FAILURE:
                    sfn.send_task_failure(
                        taskToken=token, error="Failure error", cause="Failure cause"
                    )
                else:
                    sfn.send_task_failure(taskToken=token)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        except Exception:  # a worker keeps polling until stopped
            stop.wait(0.5)


def _work_activity(
    client: Client, activity_arn: str, worker: str | None, stop: threading.Event
) -> None:
    """The activity worker of test_activities: answer each task with its own input."""
    sfn = client("stepfunctions")
    named = {"workerName": worker} if worker else {}
    while not stop.is_set():
        try:
            task = sfn.get_activity_task(activityArn=activity_arn, **named)
            token = task.get("taskToken")
            if token:
                sfn.send_task_success(taskToken=token, output=task.get("input") or "{}")
            else:
                stop.wait(0.2)
        except Exception:  # a worker keeps polling until stopped
            stop.wait(0.5)

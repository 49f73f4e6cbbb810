"""Lambda Task integrations: ``lambda:invoke`` and plain function ARNs, on an in-process
platform, with AWS's result shapes and error names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sfn_integration_support import (
    create_function,
    platform,  # noqa: F401 - the module's platform fixture
    registry_of,
    run_task,
)

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.platform import Platform

INVOKE = "arn:aws:states:::lambda:invoke"

ECHO = """
def handler(event, context):
    return event
"""

RAISE = """
def handler(event, context):
    raise Exception("Some exception was raised.")
"""

CUSTOM = """
class CustomException(Exception):
    pass

def handler(event, context):
    raise CustomException()
"""

LARGE = """
def handler(event, context):
    return "x" * (300 * 1024)
"""

TEXT = """
def handler(event, context):
    return "HelloWorld!"
"""


@pytest.fixture(scope="module")
def functions(platform: Platform) -> dict[str, tuple[str, str]]:  # noqa: F811
    return {
        "echo": create_function(platform, ECHO, "echo"),
        "raise": create_function(platform, RAISE, "raise"),
        "custom": create_function(platform, CUSTOM, "custom"),
        "large": create_function(platform, LARGE, "large"),
        "text": create_function(platform, TEXT, "text"),
    }


def test_invoke_returns_the_sdk_shape_with_the_parsed_payload(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    name, _ = functions["echo"]
    result = run_task(
        registry_of(platform), INVOKE, {"FunctionName": name, "Payload": {"body": "text"}}
    )
    assert result["Payload"] == {"body": "text"}
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    headers = result["SdkHttpMetadata"]["HttpHeaders"]
    # The payload as the Python runtime wrote it (json.dumps, with spaces), as on AWS.
    assert headers["Content-Length"] == str(len(json.dumps({"body": "text"})))
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert result["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Type"] == ["application/json"]
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert result["SdkResponseMetadata"]["RequestId"] == headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("payload", "seen"),
    [("0.0", 0.0), ("[]", []), ("{}", {}), ("not json", "not json"), (None, {}), (True, True)],
)
def test_invoke_sends_json_strings_as_they_are_and_other_values_as_json(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
    payload: Any,
    seen: Any,
) -> None:
    name, _ = functions["echo"]
    result = run_task(registry_of(platform), INVOKE, {"FunctionName": name, "Payload": payload})
    assert result["Payload"] == seen


def test_invoke_keeps_a_string_payload_result_as_text(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    name, _ = functions["text"]
    result = run_task(registry_of(platform), INVOKE, {"FunctionName": name})
    assert result["Payload"] == "HelloWorld!"


def test_a_function_error_is_named_by_its_error_type_with_the_compact_document_as_cause(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    name, _ = functions["raise"]
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), INVOKE, {"FunctionName": name, "Payload": None})
    assert caught.value.error == "Exception"
    assert ", " not in caught.value.cause.split('"stackTrace"')[0]
    document = json.loads(caught.value.cause)
    assert document["errorMessage"] == "Some exception was raised."
    assert document["errorType"] == "Exception"


def test_a_custom_exception_names_the_error(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    _, arn = functions["custom"]
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), arn, {})
    assert caught.value.error == "CustomException"
    assert json.loads(caught.value.cause)["errorType"] == "CustomException"


def test_a_missing_function_is_lambda_resource_not_found_with_the_sdk_v1_cause(
    platform: Platform,  # noqa: F811
) -> None:
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), INVOKE, {"FunctionName": "no_such_function"})
    assert caught.value.error == "Lambda.ResourceNotFoundException"
    cause = caught.value.cause
    assert cause.startswith("Function not found: arn:aws:lambda:us-east-1:000000000000:function:")
    assert "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;" in cause
    assert cause.endswith("; Proxy: null)")


def test_a_plain_function_arn_returns_the_payload_alone(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    _, arn = functions["echo"]
    registry = registry_of(platform)
    assert run_task(registry, arn, {"body": "string body"}) == {"body": "string body"}
    assert run_task(registry, arn, "HelloWorld") == "HelloWorld"
    assert run_task(registry, arn, []) == []


def test_a_plain_function_arn_error_keeps_the_document_as_the_function_wrote_it(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    _, arn = functions["raise"]
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), arn, {})
    assert caught.value.error == "Exception"
    assert json.loads(caught.value.cause)["errorMessage"] == "Some exception was raised."


def test_a_result_over_256_kib_exceeds_the_data_limit(
    platform: Platform,  # noqa: F811
    functions: dict[str, tuple[str, str]],
) -> None:
    name, arn = functions["large"]
    registry = registry_of(platform)
    with pytest.raises(StatesError) as caught:
        run_task(registry, INVOKE, {"FunctionName": name})
    assert caught.value.error == "States.DataLimitExceeded"
    assert caught.value.cause == (
        "The state/task 'lambda' returned a result with a size exceeding the maximum number "
        "of bytes service limit."
    )
    with pytest.raises(StatesError) as plain:
        run_task(registry, arn, {})
    assert f"The state/task '{arn}' returned" in plain.value.cause

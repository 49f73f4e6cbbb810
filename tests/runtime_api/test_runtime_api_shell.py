"""A shell ``bootstrap`` that speaks the Runtime API with the ``curl`` binary, as in AWS's custom
runtime tutorial (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html).

The tutorial's script starts with ``#!/bin/sh`` but uses bash (``source``, ``function``,
``pipefail``); Amazon Linux's ``/bin/sh`` is bash, Debian's is dash, so it says ``#!/bin/bash``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import pytest
from runtime_api_helpers import invoke_request

from lambdamaker.engines.functions.provided_env import ProvidedEnvironment
from lambdamaker.engines.functions.spec import FunctionSpec

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"
)

BOOTSTRAP = """#!/bin/bash
set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script; a failing handler posts an invocation error
  if RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA"); then
    curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE"
  else
    curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/error" \\
      -H "Lambda-Runtime-Function-Error-Type: Function.HandlerFailed" \\
      -d "{\\"errorMessage\\": \\"handler failed\\", \\"errorType\\": \\"HandlerFailed\\"}"
  fi
  rm -f "$HEADERS"
done
"""

FUNCTION = """
function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  if [[ "$EVENT_DATA" == *fail* ]]; then
    return 1
  fi
  RESPONSE="{\\"echo\\": $EVENT_DATA, \\"function\\": \\"$AWS_LAMBDA_FUNCTION_NAME\\", \\"memory\\": $AWS_LAMBDA_FUNCTION_MEMORY_SIZE, \\"tmp\\": \\"$TMPDIR\\"}"
  echo $RESPONSE
}
"""


@pytest.fixture()
def spec(make_spec: Callable[..., FunctionSpec]) -> FunctionSpec:
    return make_spec({"bootstrap": BOOTSTRAP, "function.sh": FUNCTION}, function_name="sh-fn")


def test_curl_bootstrap_answers_invocations(
    spec: FunctionSpec, start_env: Callable[[FunctionSpec], ProvidedEnvironment]
) -> None:
    env = start_env(spec)
    for n in range(3):
        result = env.invoke(invoke_request(spec, {"n": n}))
        assert result.function_error is None
        body = json.loads(result.payload)
        assert body["echo"] == {"n": n}
        assert body["function"] == "sh-fn"
        assert body["memory"] == 128
        assert body["tmp"].startswith(str(env._dir))  # its own /tmp, not the host's


def test_curl_bootstrap_error_post_is_an_unhandled_function_error(
    spec: FunctionSpec, start_env: Callable[[FunctionSpec], ProvidedEnvironment]
) -> None:
    env = start_env(spec)
    result = env.invoke(invoke_request(spec, {"please": "fail"}, tail_logs=True))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorMessage": "handler failed",
        "errorType": "HandlerFailed",
    }
    assert '{"please": "fail"}' in result.log_tail.decode()  # the handler's stderr
    ok = env.invoke(invoke_request(spec, {"n": 1}))
    assert ok.function_error is None

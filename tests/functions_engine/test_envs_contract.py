"""The Python handler contract, as Lambda Python defines it: event, context, environment
variables, layers, results, logs."""

from __future__ import annotations

import base64
import json
import re

from envs_helpers import ListSink, body, call

from lambdamaker.engines.functions.engine import FunctionEngine

CONTEXT_APP = """
import os

def handler(event, context):
    cc = context.client_context
    return {
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
        "client_app_title": cc.client.app_title if cc and cc.client else None,
        "cc_env": cc.env if cc else None,
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool": context.identity.cognito_identity_pool_id,
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
    }
"""


def test_handler_gets_the_event_and_a_lambda_context(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": CONTEXT_APP}, memory_mb=256, timeout_s=7, version="3")
    client_context = base64.b64encode(
        json.dumps(
            {"custom": {"k": "v"}, "client": {"app_title": "demo"}, "env": {"locale": "fr"}}
        ).encode()
    ).decode()
    result = call(
        engine,
        spec,
        {"hello": ["world", 1]},
        request_id="req-1",
        invoked_function_arn=spec.function_arn + ":live",
        client_context=client_context,
        identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    assert result.function_error is None
    out = body(result)
    assert out["event"] == {"hello": ["world", 1]}
    assert out["aws_request_id"] == "req-1"
    assert out["function_name"] == spec.function_name
    assert out["function_version"] == "3"
    assert out["invoked_function_arn"] == spec.function_arn + ":live"
    assert out["memory_limit_in_mb"] == "256"
    assert out["log_group_name"] == f"/aws/lambda/{spec.function_name}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[3\][0-9a-f]{32}", out["log_stream_name"])
    assert out["log_stream_name"] == result.log_stream
    assert 6000 < out["remaining"] <= 7000
    assert out["custom"] == {"k": "v"}
    assert out["client_app_title"] == "demo"
    assert out["cc_env"] == {"locale": "fr"}
    assert (out["identity_id"], out["identity_pool"]) == ("id-1", "pool-1")
    assert out["cwd"] == spec.code_dir
    assert result.executed_version == "3"


def test_lambda_environment_variables_are_set_and_reserved_ones_win(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn(
        {"app.py": CONTEXT_APP},
        runtime="python3.12",
        environment={"MY_VAR": "1", "AWS_REGION": "mars-1", "TZ": "Europe/Paris"},
        endpoint_url="http://127.0.0.1:4599",
        credentials=("AKID", "SECRET", "TOKEN"),
        region="eu-west-1",
        memory_mb=512,
    )
    env = body(call(engine, spec))["environ"]
    assert env["MY_VAR"] == "1"
    assert env["TZ"] == "Europe/Paris"  # unreserved: the function's value wins
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"  # reserved
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.function_name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{spec.function_name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].endswith("]" + env["AWS_LAMBDA_LOG_STREAM_NAME"][-32:])
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["LAMBDA_TASK_ROOT"] == spec.code_dir
    assert env["LAMBDA_RUNTIME_DIR"]
    assert env["LANG"] and env["PATH"] and env["LD_LIBRARY_PATH"] and env["PYTHONPATH"]
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKID", "SECRET")
    assert env["AWS_SESSION_TOKEN"] == "TOKEN"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] in ("on-demand", "snap-start")


def test_nothing_of_the_platforms_environment_leaks_in(engine: FunctionEngine, make_fn) -> None:
    env = body(call(engine, make_fn({"app.py": CONTEXT_APP})))["environ"]
    assert "HOME" not in env and "VIRTUAL_ENV" not in env and "PYTEST_CURRENT_TEST" not in env


def test_globals_persist_across_invocations_of_one_environment(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn(
        {
            "app.py": """
            import os
            count = 0
            def handler(event, context):
                global count
                count += 1
                return [count, os.getpid()]
            """
        }
    )
    results = [body(call(engine, spec)) for _ in range(3)]
    assert [r[0] for r in results] == [1, 2, 3]
    assert len({r[1] for r in results}) == 1


def test_handler_in_a_package_or_a_directory(engine: FunctionEngine, make_fn) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/mod.py": "def run(event, context):\n    return 'pkg'\n",
        "src/inner.py": "def run(event, context):\n    return 'dir'\n",
    }
    assert body(call(engine, make_fn(files, handler="pkg.mod.run"))) == "pkg"
    assert body(call(engine, make_fn(files, handler="src/inner.run"))) == "dir"


def test_results_are_json_and_bytes_pass_through(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {
            "app.py": """
            import decimal
            def handler(event, context):
                kind = event["kind"]
                if kind == "bytes":
                    return b"\\x00raw"
                if kind == "str":
                    return "text"
                if kind == "none":
                    return None
                return {"n": decimal.Decimal("2"), "f": 1.5, "u": "\\u00e9"}
            """
        }
    )
    assert call(engine, spec, {"kind": "bytes"}).payload == b"\x00raw"
    assert call(engine, spec, {"kind": "str"}).payload == b'"text"'
    assert call(engine, spec, {"kind": "none"}).payload == b"null"
    assert json.loads(call(engine, spec, {"kind": "dict"}).payload) == {
        "n": 2,
        "f": 1.5,
        "u": "\u00e9",
    }


def test_an_empty_payload_is_an_empty_event(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": "def handler(event, context):\n    return event\n"})
    assert call(engine, spec, b"").payload == b"{}"


def test_layers_are_on_the_path_after_the_code_later_layers_first(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn(
        {
            "app.py": """
            import shared, only_first, sitepkg
            def handler(event, context):
                return [shared.WHO, only_first.WHO, sitepkg.WHO]
            """
        },
        layers=[
            {"python/shared.py": "WHO = 'first'\n", "python/only_first.py": "WHO = 'first'\n"},
            {
                "python/shared.py": "WHO = 'second'\n",
                "python/lib/python3.11/site-packages/sitepkg.py": "WHO = 'site'\n",
            },
        ],
    )
    assert body(call(engine, spec)) == ["second", "first", "site"]


LOGGING_APP = """
import logging, sys
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("init line")

def handler(event, context):
    print("to stdout", event["n"])
    print("to stderr", file=sys.stderr)
    logger.info("an info record")
    sys.stdout.write("no newline")
    return event["n"]
"""


def test_logs_have_start_end_report_and_init_duration_only_on_cold_start(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": LOGGING_APP})
    first = call(engine, spec, {"n": 1}, request_id="cold-req")
    second = call(engine, spec, {"n": 2}, request_id="warm-req")
    assert first.cold_start and not second.cold_start
    assert first.init_duration_ms is not None and second.init_duration_ms is None
    assert first.log_stream == second.log_stream
    messages = sink.messages(first.log_stream)
    assert "init line\n" in messages
    cold = messages[messages.index("START RequestId: cold-req Version: $LATEST\n") :]
    assert cold[1:5] == ["to stdout 1\n", "to stderr\n", cold[3], "no newline\n"]
    assert re.fullmatch(
        r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tcold-req\tan info record\n", cold[3]
    )
    assert cold[5] == "END RequestId: cold-req\n"
    report = cold[6]
    assert re.fullmatch(
        r"REPORT RequestId: cold-req\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n",
        report,
    )
    warm_report = next(m for m in messages if m.startswith("REPORT RequestId: warm-req"))
    assert "Init Duration" not in warm_report
    billed = int(re.search(r"Billed Duration: (\d+) ms", warm_report)[1])  # type: ignore[index]
    duration = float(re.search(r"Duration: ([\d.]+) ms", warm_report)[1])  # type: ignore[index]
    assert billed == max(1, -(-int(duration * 100) // 100)) or billed >= duration
    assert second.max_memory_used_mb > 0 and second.billed_duration_ms >= 1


def test_tail_logs_return_the_last_4kb_of_this_invocation(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {
            "app.py": """
            def handler(event, context):
                for i in range(event["lines"]):
                    print(f"line {i:05d} " + "x" * 40)
                return "ok"
            """
        }
    )
    call(engine, spec, {"lines": 1})
    short = call(engine, spec, {"lines": 2}, tail_logs=True, request_id="tail-req").log_tail
    text = short.decode()
    assert text.startswith("START RequestId: tail-req")
    assert "line 00001" in text and text.rstrip().split("\n")[-1].startswith("REPORT RequestId")
    assert "line 00000" in text and text.count("START") == 1
    long = call(engine, spec, {"lines": 500}, tail_logs=True).log_tail
    assert len(long) == 4096 and b"line 00499" in long and b"line 00001 " not in long
    assert call(engine, spec, {"lines": 1}).log_tail == b""


def test_large_events_and_results_cross_intact(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": "def handler(event, context):\n    return event['data'][::-1]\n"})
    data = "".join(chr(ord("a") + i % 26) for i in range(5_000_000))
    result = call(engine, spec, {"data": data})
    assert json.loads(result.payload) == data[::-1]


def test_a_line_longer_than_a_cloudwatch_event_is_split(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": "def handler(event, context):\n    print('y' * 300_000)\n"})
    result = call(engine, spec)
    lines = [m for m in sink.messages(result.log_stream) if m.startswith("yyy")]
    assert [len(m) for m in lines] == [256 * 1024, 300_001 - 256 * 1024]


def test_files_written_to_tmp_at_init_are_in_the_snapshot(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {
            "app.py": """
            import os
            os.makedirs("/tmp/model", exist_ok=True)
            with open("/tmp/model/weights.bin", "w") as f:
                f.write("w" * 1000)
            def handler(event, context):
                return sorted(os.listdir("/tmp/model")) + [os.path.getsize("/tmp/model/weights.bin")]
            """
        }
    )
    assert body(call(engine, spec)) == ["weights.bin", 1000]

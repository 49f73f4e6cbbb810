"""``lambdamaker functions deploy|list`` and ``lambdamaker invoke`` end to end, against the
session server (the Lambda provider and the functions engine must be present)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambdamaker.cli import app
from lambdamaker.cli.deploy import DEFAULT_ROLE_NAME
from lambdamaker.observability import Meter
from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess

pytest.importorskip("lambdamaker.services.lambda_")

runner = CliRunner()

HANDLER = """
import os

def handler(event, context):
    print("handling", event)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "version": VERSION, "preload": os.environ.get("LAMBDAMAKER_PRELOAD")}

VERSION = {version}
"""


def write_code(directory: Path, version: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app.py").write_text(HANDLER.replace("{version}", str(version)))
    return directory


@pytest.fixture()
def cli(lm_server: ServerProcess) -> Callable[..., Any]:
    def run(*args: str) -> Any:
        return runner.invoke(app, [*args, "--data-dir", str(lm_server.data_dir)])

    return run


@pytest.fixture()
def name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_deploy_creates_then_updates_a_function(
    cli: Callable[..., Any], name: str, tmp_path: Path, boto_client: Callable[..., Any]
) -> None:
    code = write_code(tmp_path / "code", 1)
    created = cli("functions", "deploy", str(code), "--name", name, "--handler", "app.handler")
    assert created.exit_code == 0, created.output
    assert f"{name} created" in created.stdout
    config = boto_client("lambda").get_function_configuration(FunctionName=name)
    assert (config["Runtime"], config["Handler"], config["MemorySize"]) == (
        "python3.11",
        "app.handler",
        128,
    )
    assert config["Role"].endswith(f":role/{DEFAULT_ROLE_NAME}")
    assert boto_client("iam").get_role(RoleName=DEFAULT_ROLE_NAME)["Role"]["Arn"] == config["Role"]

    write_code(tmp_path / "code", 2)
    updated = cli(
        "functions",
        "deploy",
        str(code),
        "--name",
        name,
        "--handler",
        "app.handler",
        "--memory",
        "256",
        "--preload",
        "json,decimal",
        "--env",
        "STAGE=test",
    )
    assert updated.exit_code == 0, updated.output
    assert f"{name} updated" in updated.stdout
    config = boto_client("lambda").get_function_configuration(FunctionName=name)
    assert config["MemorySize"] == 256
    assert config["Timeout"] == 3  # not given: kept
    assert config["Environment"]["Variables"] == {
        "STAGE": "test",
        "LAMBDAMAKER_PRELOAD": "json,decimal",
    }


def test_functions_list_shows_deployed_functions(
    cli: Callable[..., Any], name: str, tmp_path: Path
) -> None:
    code = write_code(tmp_path / "code", 1)
    assert (
        cli("functions", "deploy", str(code), "-n", name, "--handler", "app.handler").exit_code == 0
    )
    table = cli("functions", "list")
    assert table.exit_code == 0, table.output
    assert name in table.stdout
    listed = json.loads(cli("functions", "list", "--json").stdout)
    assert name in [f["FunctionName"] for f in listed]


def test_invoke_prints_the_response_and_fails_on_a_function_error(
    cli: Callable[..., Any], name: str, tmp_path: Path
) -> None:
    pytest.importorskip("lambdamaker.engines.functions.engine")
    code = write_code(tmp_path / "code", 7)
    deployed = cli(
        "functions",
        "deploy",
        str(code),
        "-n",
        name,
        "--handler",
        "app.handler",
        "--preload",
        "json",
    )
    assert deployed.exit_code == 0, deployed.output
    ok = cli("invoke", name, "--payload", '{"x": 1}', "--log-tail")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"echo": {"x": 1}, "version": 7, "preload": "json"}
    assert "handling {'x': 1}" in ok.stderr
    assert "REPORT RequestId" in ok.stderr
    event = tmp_path / "event.json"
    event.write_text('{"fail": true}')
    failed = cli("invoke", name, "--payload", f"@{event}")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["errorMessage"] == "asked to fail"
    assert "Function error (Unhandled)" in failed.stderr
    # Logs are written off the invoke path in batches (as CloudWatch Logs is eventually
    # consistent): on a busy machine the group can appear a moment after the invoke returns.
    deadline = time.monotonic() + 15
    logs = cli("logs", name, "--filter", "handling")
    while logs.exit_code != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        logs = cli("logs", name, "--filter", "handling")
    assert logs.exit_code == 0, logs.output
    assert "handling {'x': 1}" in logs.stdout


def test_invocations_are_metered_per_function(
    cli: Callable[..., Any], name: str, tmp_path: Path, lm_server: ServerProcess
) -> None:
    pytest.importorskip("lambdamaker.engines.functions.engine")
    code = write_code(tmp_path / "code", 1)
    assert (
        cli("functions", "deploy", str(code), "-n", name, "--handler", "app.handler").exit_code == 0
    )
    assert cli("invoke", name).exit_code == 0
    assert cli("invoke", name, "--payload", '{"fail": true}').exit_code == 1
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    store = Store(f"sqlite:///{lm_server.data_dir / 'lambdamaker.db'}")
    try:
        deadline = time.monotonic() + 30  # the server's meter commits about once a second
        while True:
            total = Meter(store).usage(arn).total()
            if total.requests >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        store.close()
    assert (total.requests, total.errors) == (2, 1)
    assert total.cold_starts >= 1
    assert total.gb_seconds_sum == pytest.approx(128 / 1024 * total.billed_ms_sum / 1000)


def test_invoke_of_an_unknown_function_is_an_aws_error(cli: Callable[..., Any]) -> None:
    result = cli("invoke", f"missing-{uuid.uuid4().hex[:8]}")
    assert result.exit_code == 1
    assert "ResourceNotFoundException" in result.stderr

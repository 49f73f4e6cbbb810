"""``lambdamaker logs``: reads a function's log group through the public Logs API."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lambdamaker.cli import app
from lambdamaker.cli.logs_cmd import format_event, log_group_of, parse_since
from lambdamaker.testing import ServerProcess

runner = CliRunner()


@pytest.fixture()
def function_logs(boto_client: Callable[..., Any]) -> tuple[str, Callable[..., None]]:
    """A fresh function name whose log group exists, and a writer of log events into it."""
    name = f"fn-{uuid.uuid4().hex[:10]}"
    group = f"/aws/lambda/{name}"
    logs = boto_client("logs")
    logs.create_log_group(logGroupName=group)

    def write(stream: str, *messages: str, at: int | None = None) -> None:
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        t = at if at is not None else int(time.time() * 1000)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": t + i, "message": m} for i, m in enumerate(messages)],
        )

    return name, write


def run_cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_logs_prints_the_events_of_the_function_in_time_order(
    lm_server: ServerProcess, function_logs: tuple[str, Callable[..., None]]
) -> None:
    name, write = function_logs
    t = int(time.time() * 1000) - 5000
    write("2024/01/01/[$LATEST]aaaa1111", "START RequestId: 1\n", at=t)
    write("2024/01/01/[$LATEST]aaaa1111", "hello\n", at=t + 2)
    write("2024/01/01/[$LATEST]bbbb2222", "from the other env\n", at=t + 1)
    result = run_cli("logs", name, "--data-dir", str(lm_server.data_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(" ", 3)[3] for line in lines] == [
        "START RequestId: 1",
        "from the other env",
        "hello",
    ]
    assert lines[0].split(" ")[2] == "aaaa1111"


def test_logs_filters_and_starts_where_asked(
    lm_server: ServerProcess, function_logs: tuple[str, Callable[..., None]]
) -> None:
    name, write = function_logs
    now = int(time.time() * 1000)
    write("s", "old ERROR\n", at=now - 3_600_000)
    write("s", "new ERROR\n", "new INFO\n", at=now - 1000)
    base = ["logs", name, "--endpoint-url", lm_server.endpoint_url]
    base += ["--data-dir", str(lm_server.data_dir)]
    recent = run_cli(*base, "--filter", "ERROR")
    assert recent.exit_code == 0
    assert [line.split(" ", 3)[3] for line in recent.stdout.splitlines()] == ["new ERROR"]
    everything = run_cli(*base, "--since", "2h", "--filter", "ERROR")
    assert len(everything.stdout.splitlines()) == 2
    bad = run_cli(*base, "--filter", "{ $.x > }")
    assert bad.exit_code == 1
    assert "InvalidParameterException" in bad.stderr


def test_logs_of_a_function_that_never_logged_is_a_clear_error(lm_server: ServerProcess) -> None:
    result = run_cli("logs", "never-invoked", "--data-dir", str(lm_server.data_dir))
    assert result.exit_code == 1
    assert "No log group /aws/lambda/never-invoked" in result.stderr


def test_without_credentials_the_error_says_where_to_find_them(tmp_path: Path) -> None:
    args = ["logs", "f", "--endpoint-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)]
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
    }
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "No credentials: pass --data-dir" in result.stderr


def test_an_unreachable_server_is_reported_with_a_hint(tmp_path: Path) -> None:
    args = ["logs", "f", "--endpoint-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)]
    result = runner.invoke(app, args, env={"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
    assert result.exit_code == 1
    assert "Cannot reach lambdamaker at http://127.0.0.1:9" in result.stderr


def test_logs_follow_prints_new_events_until_interrupted(
    lm_server: ServerProcess, function_logs: tuple[str, Callable[..., None]]
) -> None:
    name, write = function_logs
    write("s", "before follow\n")
    command = [sys.executable, "-m", "lambdamaker", "logs", name, "--follow"]
    command += ["--data-dir", str(lm_server.data_dir), "--poll-interval", "0.1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True).start()

        def next_message() -> str:
            return lines.get(timeout=30).rstrip("\n").split(" ", 3)[3]

        try:
            assert next_message() == "before follow"
            write("s", "while following\n")
            assert next_message() == "while following"
            write("other", "another stream\n")
            assert next_message() == "another stream"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
            assert lines.empty()  # nothing printed twice
        finally:
            if proc.poll() is None:
                proc.kill()


def test_parse_since_takes_durations_and_iso_times() -> None:
    now = 1_700_000_000_000
    assert parse_since("10m", now) == now - 600_000
    assert parse_since("1h30m", now) == now - 5_400_000
    assert parse_since("2d", now) == now - 2 * 86_400_000
    assert parse_since("500ms", now) == now - 500
    assert parse_since("2024-01-01T00:00:00+00:00", now) == int(
        datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000
    )
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday", now)


def test_log_group_of_names_arns_and_groups() -> None:
    assert log_group_of("score") == "/aws/lambda/score"
    assert log_group_of("arn:aws:lambda:us-east-1:000000000000:function:score") == (
        "/aws/lambda/score"
    )
    assert log_group_of("arn:aws:lambda:us-east-1:000000000000:function:score:prod") == (
        "/aws/lambda/score"
    )
    assert log_group_of("/custom/group") == "/custom/group"


def test_format_event_shows_utc_time_short_stream_and_message() -> None:
    event = {
        "timestamp": int(datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC).timestamp() * 1000),
        "logStreamName": "2024/05/06/[$LATEST]0123456789abcdef",
        "message": "hello\n",
    }
    assert format_event(event) == "2024-05-06 07:08:09.123 01234567 hello"

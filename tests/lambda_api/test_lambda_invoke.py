"""Invoke in-process: a Pending function is waited for, and changes to code and configuration take
effect on the next invocation (old environments are retired)."""

from __future__ import annotations

import json

from lambda_support import Caller, aws_error, make_zip

READS_ENV = """
import os

def handler(event, context):
    return {"mode": os.environ.get("MODE"), "code": "v1"}
"""


def call(lam: Caller, name: str, **params: object) -> dict[str, object]:
    out = lam("Invoke", FunctionName=name, Payload=b"{}", **params)
    assert "FunctionError" not in out, out
    result: dict[str, object] = json.loads(out["Payload"])
    return result


def test_invoking_right_after_create_waits_for_activation(lam: Caller) -> None:
    assert lam.create("fn", make_zip({"app.py": READS_ENV}))["State"] == "Pending"
    assert call(lam, "fn") == {"mode": None, "code": "v1"}


def test_configuration_and_code_changes_apply_to_the_next_invocation(lam: Caller) -> None:
    lam.create("fn", make_zip({"app.py": READS_ENV}))
    assert call(lam, "fn")["mode"] is None
    lam("UpdateFunctionConfiguration", FunctionName="fn", Environment={"Variables": {"MODE": "a"}})
    assert call(lam, "fn")["mode"] == "a"
    lam(
        "UpdateFunctionCode",
        FunctionName="fn",
        ZipFile=make_zip({"app.py": READS_ENV.replace("v1", "v2")}),
    )
    assert call(lam, "fn") == {"mode": "a", "code": "v2"}


def test_published_versions_keep_running_their_own_code(lam: Caller) -> None:
    lam.create("fn", make_zip({"app.py": READS_ENV}))
    lam.wait_active("fn")
    lam("PublishVersion", FunctionName="fn")
    lam(
        "UpdateFunctionCode",
        FunctionName="fn",
        ZipFile=make_zip({"app.py": READS_ENV.replace("v1", "v2")}),
    )
    assert call(lam, "fn", Qualifier="1")["code"] == "v1"
    assert call(lam, "fn")["code"] == "v2"


def test_dry_run_and_event_need_an_existing_target(lam: Caller) -> None:
    with aws_error("ResourceNotFoundException", 404):
        lam("Invoke", FunctionName="nope", InvocationType="DryRun")
    with aws_error("ResourceNotFoundException", 404):
        lam("Invoke", FunctionName="nope", InvocationType="Event", Payload=b"{}")
    lam.create("fn", make_zip({"app.py": READS_ENV}))
    assert lam("Invoke", FunctionName="fn", InvocationType="DryRun") == {"StatusCode": 204}

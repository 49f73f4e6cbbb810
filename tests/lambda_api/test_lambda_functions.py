"""Functions in-process: create, read, list, update, delete, state transitions, validation."""

from __future__ import annotations

import base64
import hashlib

import pytest
from lambda_support import ROLE, Caller, aws_error, echo_zip, make_zip

from lambdamaker.platform import Platform

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def test_create_returns_pending_then_becomes_active(lam: Caller) -> None:
    code = echo_zip()
    created = lam.create("fn", code, Description="first", MemorySize=256, Timeout=10)
    assert created["State"] == "Pending"
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["FunctionArn"] == f"{ARN}:fn"
    assert created["Version"] == "$LATEST"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)
    assert (created["MemorySize"], created["Timeout"], created["Description"]) == (256, 10, "first")
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["Architectures"] == ["x86_64"]
    assert created["PackageType"] == "Zip"
    active = lam.wait_active("fn")
    assert active["LastUpdateStatus"] == "Successful"
    assert active["RevisionId"] != created["RevisionId"]


def test_get_function_returns_configuration_code_tags_and_concurrency(lam: Caller) -> None:
    lam.create("fn", Tags={"team": "ml"})
    lam("PutFunctionConcurrency", FunctionName="fn", ReservedConcurrentExecutions=5)
    out = lam("GetFunction", FunctionName=f"{ARN}:fn")
    assert out["Configuration"]["FunctionName"] == "fn"
    assert out["Code"]["RepositoryType"] == "S3"
    assert out["Tags"] == {"team": "ml"}
    assert out["Concurrency"] == {"ReservedConcurrentExecutions": 5}


def test_function_names_partial_arns_and_qualified_names_resolve(lam: Caller) -> None:
    lam.create("fn")
    for name in ("fn", "000000000000:function:fn", f"{ARN}:fn", "fn:$LATEST"):
        assert lam("GetFunctionConfiguration", FunctionName=name)["FunctionName"] == "fn"
    with aws_error("InvalidParameterValueException", 400, "derived qualifier"):
        lam("GetFunction", FunctionName="fn:1", Qualifier="2")
    with aws_error("ResourceNotFoundException", 404, "not reachable in this region"):
        lam("GetFunction", FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:fn")


def test_unknown_function_version_and_alias_are_not_found(lam: Caller) -> None:
    with aws_error("ResourceNotFoundException", 404, f"Function not found: {ARN}:nope"):
        lam("GetFunction", FunctionName="nope")
    lam.create("fn")
    with aws_error("ResourceNotFoundException", 404, f"Function not found: {ARN}:fn:7"):
        lam("GetFunction", FunctionName="fn", Qualifier="7")
    with aws_error("ResourceNotFoundException", 404, f"Function not found: {ARN}:fn:live"):
        lam("GetFunctionConfiguration", FunctionName="fn", Qualifier="live")


def test_create_twice_is_a_conflict_and_changes_nothing(lam: Caller) -> None:
    first = lam.create("fn")
    with aws_error("ResourceConflictException", 409, "Function already exist: fn"):
        lam.create("fn", make_zip({"other.py": "x = 1"}))
    assert lam("GetFunctionConfiguration", FunctionName="fn")["CodeSha256"] == first["CodeSha256"]


@pytest.mark.parametrize(
    ("params", "code", "status", "match"),
    [
        ({"Handler": "nodot"}, "InvalidParameterValueException", 400, "module.function"),
        ({"Handler": "app."}, "InvalidParameterValueException", 400, "module.function"),
        ({"MemorySize": 64}, "ValidationException", 400, "greater than or equal to 128"),
        (
            {"MemorySize": 20000},
            "InvalidParameterValueException",
            400,
            "less than or equal to 10240",
        ),
        ({"Timeout": 0}, "ValidationException", 400, "greater than or equal to 1"),
        ({"Timeout": 901}, "InvalidParameterValueException", 400, "less than or equal to 900"),
        ({"EphemeralStorage": {"Size": 20000}}, "InvalidParameterValueException", 400, "10240"),
        (
            {"Runtime": "nodejs20.x"},
            "InvalidParameterValueException",
            400,
            "python3.10, python3.11",
        ),
        ({"Runtime": "cobol"}, "ValidationException", 400, "enum value set"),
        ({"Role": "not-a-role"}, "ValidationException", 400, "role"),
        ({"Architectures": ["x86_64", "arm64"]}, "ValidationException", 400, "architectures"),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "InvalidParameterValueException",
            400,
            "reserved keys",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            400,
            "exceeded the 4KB limit",
        ),
        (
            {"Environment": {"Variables": {"LAMBDAMAKER_PRELOAD": "numpy, not a module"}}},
            "InvalidParameterValueException",
            400,
            "LAMBDAMAKER_PRELOAD",
        ),
        (
            {"Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:nope:1"]},
            "InvalidParameterValueException",
            400,
            "does not exist",
        ),
    ],
)
def test_bad_configuration_is_refused_and_creates_nothing(
    lam: Caller, params: dict[str, object], code: str, status: int, match: str
) -> None:
    with aws_error(code, status, match):
        lam.create("fn", **params)
    assert lam("ListFunctions")["Functions"] == []


def test_provided_runtime_accepts_any_handler(lam: Caller) -> None:
    out = lam.create(
        "custom",
        make_zip({"bootstrap": "#!/bin/sh\n"}, {"bootstrap": 0o755}),
        Runtime="provided.al2023",
        Handler="anything",
    )
    assert out["Runtime"] == "provided.al2023"


def test_list_functions_paginates_with_markers_and_lists_all_versions(lam: Caller) -> None:
    for i in range(5):
        lam.create(f"fn-{i}")
    lam.wait_active("fn-0")
    lam("PublishVersion", FunctionName="fn-0")
    names = []
    page = lam("ListFunctions", MaxItems=2)
    while True:
        names += [f["FunctionName"] for f in page["Functions"]]
        if "NextMarker" not in page:
            break
        page = lam("ListFunctions", MaxItems=2, Marker=page["NextMarker"])
    assert names == [f"fn-{i}" for i in range(5)]
    assert "State" not in lam("ListFunctions")["Functions"][0]
    every = lam("ListFunctions", FunctionVersion="ALL")["Functions"]
    arns = [f["FunctionArn"] for f in every if f["FunctionName"] == "fn-0"]
    assert arns == [f"{ARN}:fn-0:$LATEST", f"{ARN}:fn-0:1"]


def test_update_configuration_goes_in_progress_then_successful(lam: Caller) -> None:
    lam.create("fn")
    before = lam.wait_active("fn")
    out = lam(
        "UpdateFunctionConfiguration",
        FunctionName="fn",
        MemorySize=512,
        Environment={"Variables": {"MODE": "fast"}},
        Description="tuned",
    )
    assert out["LastUpdateStatus"] == "InProgress"
    after = lam.wait_active("fn")
    assert (after["MemorySize"], after["Description"]) == (512, "tuned")
    assert after["Environment"] == {"Variables": {"MODE": "fast"}}
    assert after["RevisionId"] not in (before["RevisionId"], out["RevisionId"])
    assert after["CodeSha256"] == before["CodeSha256"]


def test_update_with_stale_revision_id_fails_precondition(lam: Caller) -> None:
    lam.create("fn")
    stale = lam.wait_active("fn")["RevisionId"]
    lam("UpdateFunctionConfiguration", FunctionName="fn", Timeout=5)
    lam.wait_active("fn")
    with aws_error("PreconditionFailedException", 412, "Revision Id"):
        lam("UpdateFunctionConfiguration", FunctionName="fn", Timeout=6, RevisionId=stale)
    with aws_error("PreconditionFailedException", 412):
        lam("UpdateFunctionCode", FunctionName="fn", ZipFile=echo_zip(), RevisionId=stale)


def test_update_code_changes_sha_and_can_publish(lam: Caller) -> None:
    lam.create("fn")
    lam.wait_active("fn")
    new = echo_zip("# v2\n")
    out = lam("UpdateFunctionCode", FunctionName="fn", ZipFile=new, Publish=True)
    assert out["Version"] == "1"
    assert out["FunctionArn"] == f"{ARN}:fn:1"
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(new).digest()).decode()
    lam.wait_active("fn", "1")
    assert lam.wait_active("fn")["CodeSha256"] == out["CodeSha256"]


def test_update_code_dry_run_changes_nothing(lam: Caller) -> None:
    lam.create("fn")
    before = lam.wait_active("fn")
    preview = lam("UpdateFunctionCode", FunctionName="fn", ZipFile=echo_zip("#x\n"), DryRun=True)
    assert preview["CodeSha256"] != before["CodeSha256"]
    assert lam("GetFunctionConfiguration", FunctionName="fn") == before


def test_delete_function_removes_everything(lam: Caller, platform: Platform) -> None:
    lam.create("fn")
    lam.wait_active("fn")
    lam("PublishVersion", FunctionName="fn")
    lam("CreateAlias", FunctionName="fn", Name="live", FunctionVersion="1")
    assert lam("DeleteFunction", FunctionName="fn") == {"StatusCode": 204}
    with aws_error("ResourceNotFoundException", 404):
        lam("GetFunction", FunctionName="fn")
    with aws_error("ResourceNotFoundException", 404):
        lam("DeleteFunction", FunctionName="fn")
    assert list(platform.blobs("lambda").blob_ids()) == []


def test_delete_version_rules(lam: Caller) -> None:
    lam.create("fn")
    lam.wait_active("fn")
    lam("PublishVersion", FunctionName="fn")
    lam("CreateAlias", FunctionName="fn", Name="live", FunctionVersion="1")
    with aws_error("InvalidParameterValueException", 400, "$LATEST version cannot be deleted"):
        lam("DeleteFunction", FunctionName="fn", Qualifier="$LATEST")
    with aws_error("ResourceConflictException", 409, "[live]"):
        lam("DeleteFunction", FunctionName="fn", Qualifier="1")
    lam("DeleteAlias", FunctionName="fn", Name="live")
    lam("DeleteFunction", FunctionName="fn", Qualifier="1")
    with aws_error("ResourceNotFoundException", 404, f"{ARN}:fn:1"):
        lam("GetFunction", FunctionName="fn", Qualifier="1")
    assert lam("GetFunction", FunctionName="fn")["Configuration"]["Version"] == "$LATEST"


def test_snap_start_and_logging_config_are_accepted_and_returned(lam: Caller) -> None:
    out = lam.create(
        "fn",
        SnapStart={"ApplyOn": "PublishedVersions"},
        LoggingConfig={"LogFormat": "JSON"},
        Environment={"Variables": {"LAMBDAMAKER_PRELOAD": "json, decimal"}},
    )
    assert out["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    assert out["LoggingConfig"]["LogGroup"] == "/aws/lambda/fn"
    assert out["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    lam.wait_active("fn")
    version = lam("PublishVersion", FunctionName="fn")
    assert version["SnapStart"]["OptimizationStatus"] == "On"


def test_function_role_is_recorded(lam: Caller) -> None:
    assert lam.create("fn")["Role"] == ROLE

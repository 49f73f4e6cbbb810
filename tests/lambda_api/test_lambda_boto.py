"""The Lambda control plane through boto3 against the real server: every operation, the waiters,
and the error cases a boto3 user sees (code, HTTP status, message)."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ECHO, ROLE, make_zip

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


@pytest.fixture(scope="module")
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


@pytest.fixture(scope="module")
def raw(boto_client: Callable[..., Any]) -> Any:
    """A client that skips boto3's own parameter checks, so the server's are seen."""
    return boto_client("lambda", parameter_validation=False)


@pytest.fixture()
def name(lam: Any) -> Iterator[str]:
    fn = f"boto-{uuid.uuid4().hex[:10]}"
    yield fn
    try:
        lam.delete_function(FunctionName=fn)
    except ClientError:
        pass


def create(lam: Any, name: str, code: bytes | None = None, **params: Any) -> dict[str, Any]:
    params.setdefault("Runtime", "python3.12")
    params.setdefault("Handler", "app.handler")
    params.setdefault("Role", ROLE)
    result: dict[str, Any] = lam.create_function(
        FunctionName=name, Code={"ZipFile": code or make_zip({"app.py": ECHO})}, **params
    )
    return result


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_create_wait_active_get_list_delete(lam: Any, name: str) -> None:
    created = create(lam, name, Description="hello", Tags={"team": "ml"})
    assert created["State"] == "Pending"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.get_waiter("function_active").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Configuration"]["Description"] == "hello"
    assert got["Tags"] == {"team": "ml"}
    names = [
        f["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
        for f in page["Functions"]
    ]
    assert name in names
    deleted = lam.delete_function(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, message = error_of(lambda: lam.get_function(FunctionName=name))
    assert (code, status, message) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: {ARN}:{name}",
    )


def test_updates_and_the_updated_waiter(lam: Any, name: str) -> None:
    create(lam, name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    out = lam.update_function_configuration(
        FunctionName=name, MemorySize=256, Environment={"Variables": {"AB": "1"}}
    )
    assert out["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    code_update = lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": ECHO + "# v2\n"}), Publish=True
    )
    assert code_update["Version"] == "1"
    lam.get_waiter("function_updated").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier="1", WaiterConfig={"Delay": 1}
    )
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Environment"]["Variables"]) == (256, {"AB": "1"})
    code, status, _ = error_of(
        lambda: lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId="nope")
    )
    assert (code, status) == ("PreconditionFailedException", 412)


def test_versions_aliases_tags_and_policies(lam: Any, name: str) -> None:
    create(lam, name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    v1 = lam.publish_version(FunctionName=name, Description="one")
    assert v1["Version"] == "1"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert alias["AliasArn"] == f"{ARN}:{name}:live"
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    updated = lam.update_alias(FunctionName=name, Name="live", Description="prod")
    assert updated["Description"] == "prod"
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    arn = f"{ARN}:{name}"
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    added = lam.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
    )
    assert json.loads(added["Statement"])["Sid"] == "s3"
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert policy["Statement"][0]["Condition"] == {
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}
    }
    code, status, _ = error_of(
        lambda: lam.add_permission(
            FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="*"
        )
    )
    assert (code, status) == ("ResourceConflictException", 409)
    lam.remove_permission(FunctionName=name, StatementId="s3")
    code, status, _ = error_of(lambda: lam.remove_permission(FunctionName=name, StatementId="s3"))
    assert (code, status) == ("ResourceNotFoundException", 404)
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="1")
    code, status, message = error_of(lambda: lam.get_alias(FunctionName=name, Name="live"))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"Cannot find alias arn: {ARN}:{name}:live"


def test_layers(lam: Any) -> None:
    layer = f"layer-{uuid.uuid4().hex[:8]}"
    published = lam.publish_layer_version(
        LayerName=layer,
        Content={"ZipFile": make_zip({"python/helper.py": "X = 1"})},
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert published["Version"] == 1
    assert lam.get_layer_version(LayerName=layer, VersionNumber=1)["LicenseInfo"] == "MIT"
    assert lam.get_layer_version_by_arn(Arn=published["LayerVersionArn"])["Version"] == 1
    assert layer in [x["LayerName"] for x in lam.list_layers()["Layers"]]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=layer)["LayerVersions"]] == [1]
    lam.delete_layer_version(LayerName=layer, VersionNumber=1)
    code, status, _ = error_of(lambda: lam.get_layer_version(LayerName=layer, VersionNumber=1))
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_concurrency_and_account_settings(lam: Any, name: str) -> None:
    create(lam, name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.publish_version(FunctionName=name)
    assert (
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=20)[
            "ReservedConcurrentExecutions"
        ]
        == 20
    )
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 20
    code, status, message = error_of(
        lambda: lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "below its minimum value of [100]" in message
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    assert put["Status"] == "IN_PROGRESS"
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert got["RequestedProvisionedConcurrentExecutions"] == 1
    code, status, _ = error_of(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    code, status, _ = error_of(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    )
    assert (code, status) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)


def zip_with_entry(entry: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", ECHO)
        zf.writestr(zipfile.ZipInfo(entry), "boom")
    return buf.getvalue()


def big_zip(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("big.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk) + 1):
                entry.write(chunk)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("params", "code", "status", "fragment"),
    [
        ({"Handler": "handler"}, "InvalidParameterValueException", 400, "module.function"),
        ({"MemorySize": 100}, "ValidationException", 400, "greater than or equal to 128"),
        (
            {"MemorySize": 10241},
            "InvalidParameterValueException",
            400,
            "less than or equal to 10240",
        ),
        ({"Timeout": 901}, "InvalidParameterValueException", 400, "less than or equal to 900"),
        ({"Runtime": "java21"}, "InvalidParameterValueException", 400, "runtime"),
        (
            {"Code": b"not a zip"},
            "InvalidParameterValueException",
            400,
            "Could not unzip uploaded file",
        ),
        (
            {"Code": zip_with_entry("/abs.py")},
            "InvalidParameterValueException",
            400,
            "absolute path",
        ),
        (
            {"Code": zip_with_entry("../up.py")},
            "InvalidParameterValueException",
            400,
            "escapes its root",
        ),
        (
            {"Code": "too-big"},
            "InvalidParameterValueException",
            400,
            "Unzipped size must be smaller than 262144000 bytes",
        ),
    ],
)
def test_bad_input_gets_lambdas_error(
    lam: Any, raw: Any, name: str, params: dict[str, Any], code: str, status: int, fragment: str
) -> None:
    zipped = params.pop("Code", None)
    if zipped == "too-big":
        zipped = big_zip(262144000)
    got = error_of(lambda: create(raw, name, zipped, **params))
    assert got[:2] == (code, status), got
    assert fragment in got[2]
    assert error_of(lambda: lam.get_function(FunctionName=name))[0] == "ResourceNotFoundException"


def test_zipped_upload_over_50_mb_is_request_entity_too_large(lam: Any, name: str) -> None:
    payload = b"PK\x03\x04" + os.urandom(50 * 1024 * 1024)
    code, status, message = error_of(lambda: create(lam, name, payload))
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert message == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


def test_unknown_function_version_and_alias(lam: Any, name: str) -> None:
    assert error_of(lambda: lam.get_function(FunctionName="no-such-fn"))[:2] == (
        "ResourceNotFoundException",
        404,
    )
    create(lam, name)
    assert error_of(lambda: lam.get_function(FunctionName=name, Qualifier="42"))[2] == (
        f"Function not found: {ARN}:{name}:42"
    )
    assert error_of(lambda: lam.get_function_configuration(FunctionName=name, Qualifier="nope"))[
        :2
    ] == ("ResourceNotFoundException", 404)
    assert error_of(lambda: lam.get_alias(FunctionName=name, Name="nope"))[:2] == (
        "ResourceNotFoundException",
        404,
    )

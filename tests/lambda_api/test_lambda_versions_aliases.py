"""Versions and aliases in-process: publishing, preconditions, routing configuration."""

from __future__ import annotations

import random

import pytest
from lambda_support import Caller, aws_error, echo_zip

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_ import LambdaProvider

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


@pytest.fixture()
def fn(lam: Caller) -> str:
    lam.create("fn")
    lam.wait_active("fn")
    return "fn"


def publish(lam: Caller, fn: str, marker: str) -> dict[str, object]:
    lam("UpdateFunctionCode", FunctionName=fn, ZipFile=echo_zip(f"# {marker}\n"))
    lam.wait_active(fn)
    return lam("PublishVersion", FunctionName=fn)


def test_publish_numbers_versions_and_reuses_an_unchanged_one(lam: Caller, fn: str) -> None:
    first = lam("PublishVersion", FunctionName=fn, Description="v1")
    assert (first["Version"], first["FunctionArn"], first["Description"]) == (
        "1",
        f"{ARN}:fn:1",
        "v1",
    )
    assert first["State"] == "Pending"
    lam.wait_active(fn, "1")
    again = lam("PublishVersion", FunctionName=fn)
    assert again["Version"] == "1"
    second = publish(lam, fn, "two")
    assert second["Version"] == "2"
    versions = lam("ListVersionsByFunction", FunctionName=fn)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"] == f"{ARN}:fn:$LATEST"
    page = lam("ListVersionsByFunction", FunctionName=fn, MaxItems=2)
    assert len(page["Versions"]) == 2
    rest = lam("ListVersionsByFunction", FunctionName=fn, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2"]


def test_published_version_keeps_its_code_and_configuration(lam: Caller, fn: str) -> None:
    v1 = lam("PublishVersion", FunctionName=fn)
    lam("UpdateFunctionConfiguration", FunctionName=fn, MemorySize=1024)
    lam.wait_active(fn)
    assert lam("GetFunctionConfiguration", FunctionName=fn, Qualifier="1")["MemorySize"] == 128
    assert lam("GetFunctionConfiguration", FunctionName=f"{fn}:1")["CodeSha256"] == v1["CodeSha256"]


def test_publish_preconditions(lam: Caller, fn: str) -> None:
    latest = lam("GetFunctionConfiguration", FunctionName=fn)
    with aws_error("InvalidParameterValueException", 400, "CodeSHA256 (abc) is different"):
        lam("PublishVersion", FunctionName=fn, CodeSha256="abc")
    with aws_error("PreconditionFailedException", 412):
        lam("PublishVersion", FunctionName=fn, RevisionId="stale")
    out = lam(
        "PublishVersion",
        FunctionName=fn,
        CodeSha256=latest["CodeSha256"],
        RevisionId=latest["RevisionId"],
    )
    assert out["Version"] == "1"
    with aws_error("ResourceNotFoundException", 404, f"{ARN}:nope"):
        lam("PublishVersion", FunctionName="nope")


def test_alias_lifecycle(lam: Caller, fn: str) -> None:
    lam("PublishVersion", FunctionName=fn)
    publish(lam, fn, "two")
    alias = lam(
        "CreateAlias", FunctionName=fn, Name="live", FunctionVersion="1", Description="prod"
    )
    assert alias["AliasArn"] == f"{ARN}:fn:live"
    assert lam("GetAlias", FunctionName=fn, Name="live") == alias
    with aws_error("ResourceConflictException", 409, f"Alias already exists: {ARN}:fn:live"):
        lam("CreateAlias", FunctionName=fn, Name="live", FunctionVersion="1")
    with aws_error("PreconditionFailedException", 412):
        lam("UpdateAlias", FunctionName=fn, Name="live", FunctionVersion="2", RevisionId="old")
    moved = lam(
        "UpdateAlias",
        FunctionName=fn,
        Name="live",
        FunctionVersion="2",
        RevisionId=alias["RevisionId"],
    )
    assert moved["FunctionVersion"] == "2"
    assert moved["Description"] == "prod"
    assert moved["RevisionId"] != alias["RevisionId"]
    lam("CreateAlias", FunctionName=fn, Name="beta", FunctionVersion="$LATEST")
    names = [a["Name"] for a in lam("ListAliases", FunctionName=fn)["Aliases"]]
    assert names == ["beta", "live"]
    assert [
        a["Name"] for a in lam("ListAliases", FunctionName=fn, FunctionVersion="2")["Aliases"]
    ] == ["live"]
    config = lam("GetFunctionConfiguration", FunctionName=fn, Qualifier="live")
    assert (config["Version"], config["FunctionArn"]) == ("2", f"{ARN}:fn:live")
    lam("DeleteAlias", FunctionName=fn, Name="live")
    with aws_error("ResourceNotFoundException", 404, f"Cannot find alias arn: {ARN}:fn:live"):
        lam("GetAlias", FunctionName=fn, Name="live")


def test_alias_to_missing_version_or_function_is_not_found(lam: Caller, fn: str) -> None:
    with aws_error("ResourceNotFoundException", 404, f"Function not found: {ARN}:fn:9"):
        lam("CreateAlias", FunctionName=fn, Name="live", FunctionVersion="9")
    with aws_error("ResourceNotFoundException", 404, f"Function not found: {ARN}:nope"):
        lam("CreateAlias", FunctionName="nope", Name="live", FunctionVersion="1")
    with aws_error("ValidationException", 400, "name"):
        lam("CreateAlias", FunctionName=fn, Name="123", FunctionVersion="$LATEST")


@pytest.mark.parametrize(
    ("primary", "weights", "code", "match"),
    [
        ("1", {"2": 0.5, "3": 0.1}, "InvalidParameterValueException", "cannot be greater than 1"),
        ("1", {"1": 0.5}, "InvalidParameterValueException", "already included in routing"),
        ("$LATEST", {"1": 0.5}, "InvalidParameterValueException", "$LATEST is not supported"),
        ("1", {"9": 0.5}, "ResourceNotFoundException", "Function not found"),
        ("1", {"2": 1.5}, "ValidationException", "less than or equal to 1.0"),
    ],
)
def test_bad_routing_configuration_is_refused(
    lam: Caller, fn: str, primary: str, weights: dict[str, float], code: str, match: str
) -> None:
    lam("PublishVersion", FunctionName=fn)
    publish(lam, fn, "two")
    publish(lam, fn, "three")
    with pytest.raises(Exception) as info:
        lam(
            "CreateAlias",
            FunctionName=fn,
            Name="live",
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )
    err = info.value
    assert getattr(err, "code", None) == code, err
    assert match in str(err)


def test_weighted_alias_target_picks_versions_by_weight(
    lam: Caller, fn: str, platform: Platform
) -> None:
    lam("PublishVersion", FunctionName=fn)
    publish(lam, fn, "two")
    alias = lam(
        "CreateAlias",
        FunctionName=fn,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}
    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    target = provider.targets.get(fn, "live")
    rng = random.Random(7)
    picks = [target.pick(rng).spec.version for _ in range(2000)]
    share = picks.count("2") / len(picks)
    assert 0.26 < share < 0.34
    cleared = lam(
        "UpdateAlias", FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in cleared
    assert provider.targets.get(fn, "live").additional is None

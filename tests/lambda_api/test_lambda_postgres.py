"""Lambda on a PostgreSQL store: one walk through every table and query shape.

The in-process suite runs on SQLite; this checks that the same SQL (version ordering by number,
sums and counts, the event queue's leases, role keys) behaves on PostgreSQL too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_support import Caller, aws_error, echo_zip, make_zip

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.lambda_ import LambdaProvider
from lambdamaker.testing.postgres import TemporaryPostgres

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_platform(postgres_cluster: TemporaryPostgres, tmp_path: Path) -> Iterator[Platform]:
    with (
        postgres_cluster.database() as url,
        Platform(
            PlatformConfig(data_dir=tmp_path / "data", store_url=url),
            services=["s3", "iam", "sts", "lambda", "logs"],
        ) as p,
    ):
        yield p


def test_lambda_walkthrough_on_postgres(pg_platform: Platform) -> None:
    lam = Caller(pg_platform)
    layer = lam(
        "PublishLayerVersion",
        LayerName="tools",
        Content={"ZipFile": make_zip({"python/t.py": "T = 1"})},
    )
    lam.create("fn", Layers=[layer["LayerVersionArn"]], Tags={"a": "b"})
    lam.wait_active("fn")
    for i in range(11):  # versions 1..11: "10" and "11" must sort after "9"
        lam("UpdateFunctionCode", FunctionName="fn", ZipFile=echo_zip(f"# {i}\n"))
        lam.wait_active("fn")
        lam("PublishVersion", FunctionName="fn")
    versions = [v["Version"] for v in lam("ListVersionsByFunction", FunctionName="fn")["Versions"]]
    assert versions == ["$LATEST", *[str(i) for i in range(1, 12)]]
    assert lam("PublishVersion", FunctionName="fn")["Version"] == "11"
    lam(
        "CreateAlias",
        FunctionName="fn",
        Name="live",
        FunctionVersion="10",
        RoutingConfig={"AdditionalVersionWeights": {"11": 0.5}},
    )
    lam(
        "AddPermission",
        FunctionName="fn",
        Qualifier="live",
        StatementId="s",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    assert (
        json.loads(lam("GetPolicy", FunctionName="fn", Qualifier="live")["Policy"])["Statement"][0][
            "Sid"
        ]
        == "s"
    )
    lam("PutFunctionConcurrency", FunctionName="fn", ReservedConcurrentExecutions=10)
    lam(
        "PutProvisionedConcurrencyConfig",
        FunctionName="fn",
        Qualifier="live",
        ProvisionedConcurrentExecutions=1,
    )
    settings = lam("GetAccountSettings")
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    assert settings["AccountUsage"]["FunctionCount"] == 1
    with aws_error("ResourceConflictException", 409):
        lam("DeleteFunction", FunctionName="fn", Qualifier="10")
    lam(
        "TagResource", Resource="arn:aws:lambda:us-east-1:000000000000:function:fn", Tags={"c": "d"}
    )
    assert lam("ListTags", Resource="arn:aws:lambda:us-east-1:000000000000:function:fn")[
        "Tags"
    ] == {"a": "b", "c": "d"}
    provider = pg_platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    out = lam("Invoke", FunctionName="fn", Payload=b'{"k": 1}')
    assert json.loads(out["Payload"])["event"] == {"k": 1}
    accepted = lam("Invoke", FunctionName="fn", InvocationType="Event", Payload=b"{}")
    assert accepted == {"StatusCode": 202}
    lam("DeleteFunction", FunctionName="fn")
    assert lam("ListFunctions")["Functions"] == []

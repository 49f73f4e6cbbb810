"""Layers in-process: publishing, listing, filters, deletion, use by functions."""

from __future__ import annotations

from pathlib import Path

from lambda_support import Caller, aws_error, make_zip

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_ import LambdaProvider

LAYER_ARN = "arn:aws:lambda:us-east-1:000000000000:layer"


def layer_zip(value: str = "1") -> bytes:
    return make_zip({"python/helper.py": f"VALUE = {value}\n"})


def test_publish_numbers_versions_per_layer_and_never_reuses_them(lam: Caller) -> None:
    first = lam(
        "PublishLayerVersion",
        LayerName="tools",
        Content={"ZipFile": layer_zip()},
        Description="helpers",
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert first["LayerArn"] == f"{LAYER_ARN}:tools"
    assert first["LayerVersionArn"] == f"{LAYER_ARN}:tools:1"
    assert first["Version"] == 1
    assert first["Content"]["CodeSize"] > 0
    assert (first["CompatibleRuntimes"], first["LicenseInfo"]) == (["python3.12"], "MIT")
    second = lam("PublishLayerVersion", LayerName="tools", Content={"ZipFile": layer_zip("2")})
    assert second["Version"] == 2
    lam("DeleteLayerVersion", LayerName="tools", VersionNumber=2)
    third = lam(
        "PublishLayerVersion", LayerName=f"{LAYER_ARN}:tools", Content={"ZipFile": layer_zip("3")}
    )
    assert third["Version"] == 3


def test_get_layer_version_by_name_and_by_arn(lam: Caller) -> None:
    published = lam("PublishLayerVersion", LayerName="tools", Content={"ZipFile": layer_zip()})
    got = lam("GetLayerVersion", LayerName="tools", VersionNumber=1)
    assert got["LayerVersionArn"] == published["LayerVersionArn"]
    assert lam("GetLayerVersionByArn", Arn=f"{LAYER_ARN}:tools:1")["Version"] == 1
    with aws_error("ResourceNotFoundException", 404, "The resource you requested does not exist."):
        lam("GetLayerVersion", LayerName="tools", VersionNumber=5)
    with aws_error("InvalidParameterValueException", 400, "Layer Version Cannot be less than 1"):
        lam("GetLayerVersion", LayerName="tools", VersionNumber=0)


def test_list_layers_shows_the_latest_matching_version(lam: Caller) -> None:
    lam(
        "PublishLayerVersion",
        LayerName="a",
        Content={"ZipFile": layer_zip()},
        CompatibleRuntimes=["python3.11"],
    )
    lam(
        "PublishLayerVersion",
        LayerName="a",
        Content={"ZipFile": layer_zip("2")},
        CompatibleRuntimes=["python3.12"],
    )
    lam("PublishLayerVersion", LayerName="b", Content={"ZipFile": layer_zip()})
    layers = lam("ListLayers")["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [
        ("a", 2),
        ("b", 1),
    ]
    only = lam("ListLayers", CompatibleRuntime="python3.11")["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in only] == [("a", 1)]
    versions = lam("ListLayerVersions", LayerName="a")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    page = lam("ListLayerVersions", LayerName="a", MaxItems=1)
    assert [v["Version"] for v in page["LayerVersions"]] == [2]
    rest = lam("ListLayerVersions", LayerName="a", Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1]


def test_functions_get_layer_trees_in_order_and_survive_layer_deletion(
    lam: Caller, platform: Platform
) -> None:
    a = lam("PublishLayerVersion", LayerName="a", Content={"ZipFile": layer_zip("1")})
    b = lam(
        "PublishLayerVersion",
        LayerName="b",
        Content={"ZipFile": make_zip({"python/b.py": "B = 2"})},
    )
    created = lam.create("fn", Layers=[a["LayerVersionArn"], b["LayerVersionArn"]])
    assert [x["Arn"] for x in created["Layers"]] == [a["LayerVersionArn"], b["LayerVersionArn"]]
    assert created["Layers"][0]["CodeSize"] == a["Content"]["CodeSize"]
    lam.wait_active("fn")
    lam("DeleteLayerVersion", LayerName="a", VersionNumber=1)
    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    spec = provider.targets.get("fn", None).primary.spec
    assert (Path(spec.layer_dirs[0]) / "python" / "helper.py").read_text() == "VALUE = 1\n"
    assert (Path(spec.layer_dirs[1]) / "python" / "b.py").exists()


def test_layer_reference_rules(lam: Caller) -> None:
    a1 = lam("PublishLayerVersion", LayerName="a", Content={"ZipFile": layer_zip()})
    a2 = lam("PublishLayerVersion", LayerName="a", Content={"ZipFile": layer_zip("2")})
    with aws_error(
        "InvalidParameterValueException", 400, "Two different versions of the same layer"
    ):
        lam.create("fn", Layers=[a1["LayerVersionArn"], a2["LayerVersionArn"]])
    many = [
        lam("PublishLayerVersion", LayerName=f"l{i}", Content={"ZipFile": layer_zip()})[
            "LayerVersionArn"
        ]
        for i in range(6)
    ]
    with aws_error("InvalidParameterValueException", 400, "Cannot reference more than 5 layers."):
        lam.create("fn", Layers=many)
    lam.create("fn")
    lam.wait_active("fn")
    updated = lam("UpdateFunctionConfiguration", FunctionName="fn", Layers=[a2["LayerVersionArn"]])
    assert [x["Arn"] for x in updated["Layers"]] == [a2["LayerVersionArn"]]

"""Real boto3 clients talking to the protocol layer in process, with botocore's full client
pipeline (handlers, error factory, streaming bodies) and no network: a ``before-send`` hook
hands each prepared request to ``ServiceProtocol`` and returns its response.

The "providers" here are small functions in the provider convention (params dict in, result
dict out), so these tests pin the contract providers will be written against.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import Body, HttpRequest, HttpResponse, ServiceProtocol

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class _Raw:
    """Just enough of urllib3's response for botocore (``stream`` and ``read``)."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def stream(self, amt: int = 1024, decode_content: bool = False) -> Iterator[bytes]:
        while chunk := self._buffer.read(amt):
            yield chunk

    def read(self, amt: int | None = None, decode_content: bool = False) -> bytes:
        return self._buffer.read(amt)

    def close(self) -> None:
        pass


def _client(
    service: str, handlers: dict[str, Handler], seen: list[dict[str, Any]], **config: Any
) -> Any:
    protocol = ServiceProtocol.for_service(service)
    settings = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config)
    client = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:4599",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=settings,
    )

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body.read()
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
        }
        http = HttpRequest(request.method, url.path, url.query, headers, raw, url.netloc)
        response = _serve(protocol, http, handlers, seen)
        body_bytes = response.body if isinstance(response.body, bytes) else response.body.read()
        if request.method == "HEAD":
            body_bytes = b""
        return AWSResponse(request.url, response.status, response.headers, _Raw(body_bytes))

    client.meta.events.register("before-send", send)
    return client


def _serve(
    protocol: ServiceProtocol,
    request: HttpRequest,
    handlers: dict[str, Handler],
    seen: list[dict[str, Any]],
) -> HttpResponse:
    operation = None
    try:
        operation = protocol.find_operation(request)
        params = protocol.parse(request, operation)
        protocol.validate(operation, params)
        seen.append(params)
        handler = handlers.get(operation.name)
        if handler is None:
            raise protocol.not_implemented(operation)
        return protocol.serialize(operation, handler(params), "req-0001")
    except ServiceError as exc:
        return protocol.serialize_error(exc, operation, "req-0001")


@pytest.fixture()
def seen() -> list[dict[str, Any]]:
    return []


def test_s3_object_round_trip_through_boto3(seen: list[dict[str, Any]]) -> None:
    store: dict[str, tuple[bytes, dict[str, str]]] = {}
    stamp = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)

    def put_object(params: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(params["Body"], Body)
        store[params["Key"]] = (params["Body"].read(), params.get("Metadata", {}))
        return {"ETag": '"etag-1"'}

    def get_object(params: dict[str, Any]) -> dict[str, Any]:
        if params["Key"] not in store:
            raise ServiceError("The specified key does not exist.", code="NoSuchKey", status=404)
        data, meta = store[params["Key"]]
        return {"Body": data, "ContentLength": len(data), "Metadata": meta, "LastModified": stamp}

    def head_object(params: dict[str, Any]) -> dict[str, Any]:
        if params["Key"] not in store:
            raise ServiceError("Not Found", code="NoSuchKey", status=404)
        data, meta = store[params["Key"]]
        return {"ContentLength": len(data), "Metadata": meta, "LastModified": stamp}

    def list_objects_v2(params: dict[str, Any]) -> dict[str, Any]:
        keys = sorted(k for k in store if k.startswith(params.get("Prefix", "")))
        contents = [{"Key": k, "Size": len(store[k][0]), "LastModified": stamp} for k in keys]
        return {"Name": params["Bucket"], "Contents": contents, "KeyCount": len(keys)}

    def delete_objects(params: dict[str, Any]) -> dict[str, Any]:
        deleted = [{"Key": o["Key"]} for o in params["Delete"]["Objects"]]
        for o in deleted:
            store.pop(o["Key"], None)
        return {"Deleted": deleted}

    handlers: dict[str, Handler] = {
        "PutObject": put_object,
        "GetObject": get_object,
        "HeadObject": head_object,
        "ListObjectsV2": list_objects_v2,
        "DeleteObjects": delete_objects,
        "GetBucketLocation": lambda params: {"LocationConstraint": "eu-west-1"},
    }
    s3 = _client("s3", handlers, seen)

    s3.put_object(Bucket="b", Key="dir/a b+c.txt", Body=b"hello", Metadata={"color": "blue"})
    got = s3.get_object(Bucket="b", Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hello"
    assert got["Metadata"] == {"color": "blue"}
    assert got["LastModified"] == stamp
    assert s3.head_object(Bucket="b", Key="dir/a b+c.txt")["ContentLength"] == 5
    listed = s3.list_objects_v2(Bucket="b", Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a b+c.txt"]
    assert s3.get_bucket_location(Bucket="b")["LocationConstraint"] == "eu-west-1"
    deleted = s3.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "dir/a b+c.txt"}]})
    assert deleted["Deleted"] == [{"Key": "dir/a b+c.txt"}]

    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="b", Key="dir/a b+c.txt")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket="b", Key="dir/a b+c.txt")
    assert info.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as info:
        s3.get_bucket_website(Bucket="b")
    assert info.value.response["Error"]["Code"] == "NotImplemented"


def test_sqs_error_reaches_boto3_as_modelled_exception_with_legacy_code(
    seen: list[dict[str, Any]],
) -> None:
    def get_queue_url(params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")

    sqs = _client("sqs", {"GetQueueUrl": get_queue_url}, seen)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as info:
        sqs.get_queue_url(QueueName="missing")
    assert info.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_iam_query_round_trip_through_boto3(seen: list[dict[str, Any]]) -> None:
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

    def create_role(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "Role": {
                "Path": "/",
                "RoleName": params["RoleName"],
                "RoleId": "AROAEXAMPLEEXAMPLE01",
                "Arn": f"arn:aws:iam::000000000000:role/{params['RoleName']}",
                "CreateDate": created,
                "AssumeRolePolicyDocument": params["AssumeRolePolicyDocument"],
                "Tags": params.get("Tags", []),
            }
        }

    iam = _client("iam", {"CreateRole": create_role}, seen)
    role = iam.create_role(
        RoleName="svc-role",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
        Tags=[{"Key": "team", "Value": "ml"}],
    )["Role"]
    assert role["CreateDate"] == created
    assert role["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert seen[-1]["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError) as info:
        iam.delete_role(RoleName="svc-role")
    assert info.value.response["Error"]["Code"] == "InvalidAction"


def test_lambda_invoke_payload_and_headers_through_boto3(seen: list[dict[str, Any]]) -> None:
    def invoke(params: dict[str, Any]) -> dict[str, Any]:
        assert params["Payload"] == b'{"x": 1}'
        return {
            "StatusCode": 200,
            "Payload": b'{"ok": true}',
            "ExecutedVersion": "$LATEST",
            "FunctionError": "Unhandled",
        }

    lam = _client("lambda", {"Invoke": invoke}, seen)
    out = lam.invoke(FunctionName="my-fn", Payload=b'{"x": 1}')
    assert out["StatusCode"] == 200
    assert out["Payload"].read() == b'{"ok": true}'
    assert out["FunctionError"] == "Unhandled"
    assert seen[-1]["FunctionName"] == "my-fn"


def test_server_side_validation_reaches_boto3_as_validation_exception(
    seen: list[dict[str, Any]],
) -> None:
    ddb = _client("dynamodb", {}, seen, parameter_validation=False)
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName="t" * 3000, Key={"pk": {"S": "a"}})
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        "at 'tableName' failed to satisfy constraint: Member must have length less"
        in error["Message"]
    )
    assert seen == []

"""What each protocol answers to bad input, and the wire details clients depend on."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import (
    Body,
    FileSlice,
    HttpRequest,
    HttpResponse,
    ServiceProtocol,
)
from lambdamaker.gateway.protocol.patterns import compile_pattern


def _json_request(service: str, operation: str, body: bytes) -> HttpRequest:
    protocol = ServiceProtocol.for_service(service)
    prefix = protocol.service_model.metadata["targetPrefix"]
    headers = {"x-amz-target": f"{prefix}.{operation}", "content-type": "application/json"}
    return HttpRequest("POST", "/", "", headers, body)


def _error(protocol: ServiceProtocol, request: HttpRequest, validate: bool = True) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        operation = protocol.find_operation(request)
        params = protocol.parse(request, operation)
        if validate:
            protocol.validate(operation, params)
    return info.value


# --- finding the operation -----------------------------------------------------------------------


def test_for_service_returns_one_cached_instance_per_service() -> None:
    assert ServiceProtocol.for_service("sqs") is ServiceProtocol.for_service("sqs")
    assert ServiceProtocol.for_service("cloudwatch").protocol == "json"
    assert ServiceProtocol.for_service("cloudwatch", "query").protocol == "query"


def test_unknown_json_target_is_unknown_operation_naming_it() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    err = _error(protocol, _json_request("dynamodb", "DropEverything", b"{}"))
    assert (err.code, err.status) == ("UnknownOperationException", 400)
    assert "DropEverything" in err.message


def test_unknown_query_action_is_invalid_action_naming_it() -> None:
    protocol = ServiceProtocol.for_service("iam")
    request = HttpRequest("POST", "/", "", {}, b"Action=DropEverything&Version=2010-05-08")
    err = _error(protocol, request)
    assert (err.code, err.status) == ("InvalidAction", 400)
    assert err.message == "Could not find operation DropEverything for version 2010-05-08"


def test_query_request_without_action_is_missing_action() -> None:
    err = _error(ServiceProtocol.for_service("sts"), HttpRequest("POST", "/", "", {}, b""))
    assert err.code == "MissingAction"


def test_unknown_rest_json_path_is_unknown_operation_404() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    err = _error(protocol, HttpRequest("GET", "/2015-03-31/nothing-here"))
    assert (err.code, err.status) == ("UnknownOperationException", 404)
    assert "/2015-03-31/nothing-here" in err.message


def test_s3_method_without_operation_is_method_not_allowed() -> None:
    protocol = ServiceProtocol.for_service("s3")
    err = _error(protocol, HttpRequest("PATCH", "/bucket/key"))
    assert (err.code, err.status) == ("MethodNotAllowed", 405)
    assert err.fields == {"Method": "PATCH", "ResourceType": "OBJECT"}


def test_not_implemented_error_names_the_operation() -> None:
    protocol = ServiceProtocol.for_service("s3")
    err = protocol.not_implemented(protocol.service_model.operation_model("GetBucketWebsite"))
    assert (err.code, err.status) == ("NotImplemented", 501)
    assert "GetBucketWebsite" in err.message


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/b", "list-type=2", {}, "ListObjectsV2"),
        ("GET", "/b", "", {}, "ListObjects"),
        ("GET", "/b/", "prefix=a", {}, "ListObjects"),
        ("GET", "/b", "location", {}, "GetBucketLocation"),
        ("POST", "/b", "delete", {}, "DeleteObjects"),
        ("PUT", "/b/k", "", {}, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/src/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "s/k"}, "UploadPartCopy"),
        ("PUT", "/b/k", "tagging", {}, "PutObjectTagging"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("GET", "/b/dir/", "", {}, "GetObject"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("GET", "/", "", {}, "ListBuckets"),
        ("GET", "/b", "notification", {}, "GetBucketNotificationConfiguration"),
    ],
)
def test_s3_routes_to_the_most_specific_operation(
    method: str, path: str, query: str, headers: dict[str, str], expected: str
) -> None:
    protocol = ServiceProtocol.for_service("s3")
    request = HttpRequest(method, path, query, headers)
    assert protocol.find_operation(request).name == expected


def test_s3_keys_keep_slashes_and_decode_percent_escapes() -> None:
    protocol = ServiceProtocol.for_service("s3")
    request = HttpRequest("GET", "/my-bucket/dir/sub/a%20b%2Bc%25.txt/", "", {})
    operation = protocol.find_operation(request)
    params = protocol.parse(request, operation)
    assert params == {"Bucket": "my-bucket", "Key": "dir/sub/a b+c%.txt/"}


# --- parsing -------------------------------------------------------------------------------------


def test_malformed_json_is_a_serialization_exception() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    err = _error(protocol, _json_request("dynamodb", "GetItem", b'{"TableName": '))
    assert (err.code, err.status) == ("SerializationException", 400)


def test_wrong_json_type_names_the_member() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    body = b'{"TableName": "t", "Key": {"pk": {"S": "a"}}, "ConsistentRead": "yes"}'
    err = _error(protocol, _json_request("dynamodb", "GetItem", body))
    assert err.code == "SerializationException"
    assert "ConsistentRead" in err.message


def test_lambda_reports_unparseable_body_as_invalid_request_content() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    request = HttpRequest("POST", "/2015-03-31/functions", "", {}, b"{not json")
    err = _error(protocol, request)
    assert (err.code, err.status) == ("InvalidRequestContentException", 400)


def test_s3_malformed_xml_is_malformed_xml() -> None:
    protocol = ServiceProtocol.for_service("s3")
    request = HttpRequest("POST", "/b", "delete", {}, b"<Delete><Object><Key>k</Key></Object>")
    err = _error(protocol, request)
    assert (err.code, err.status) == ("MalformedXML", 400)


def test_s3_refuses_doctype_so_no_entity_is_ever_expanded() -> None:
    protocol = ServiceProtocol.for_service("s3")
    body = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>'
        b"<Delete><Object><Key>&e;</Key></Object></Delete>"
    )
    err = _error(protocol, HttpRequest("POST", "/b", "delete", {}, body))
    assert err.code == "MalformedXML"


def test_s3_bad_header_value_is_invalid_argument() -> None:
    protocol = ServiceProtocol.for_service("s3")
    request = HttpRequest("GET", "/b/k", "partNumber=first", {})
    err = _error(protocol, request)
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert "PartNumber" in err.message


def test_iam_value_of_wrong_type_is_invalid_input() -> None:
    protocol = ServiceProtocol.for_service("iam")
    request = HttpRequest("POST", "/", "", {}, b"Action=ListRoles&Version=2010-05-08&MaxItems=ten")
    assert _error(protocol, request).code == "InvalidInput"


def test_query_parameters_may_come_in_the_query_string() -> None:
    protocol = ServiceProtocol.for_service("iam")
    request = HttpRequest(
        "GET", "/", "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fsvc%2F&MaxItems=5"
    )
    operation = protocol.find_operation(request)
    assert protocol.parse(request, operation) == {"PathPrefix": "/svc/", "MaxItems": 5}


def test_query_lists_and_maps_are_read_from_dotted_keys() -> None:
    protocol = ServiceProtocol.for_service("iam")
    body = (
        b"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D"
        b"&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1"
    )
    request = HttpRequest("POST", "/", "", {}, body)
    params = protocol.parse(request, protocol.find_operation(request))
    assert params["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_gzipped_body_of_a_compressed_operation_is_inflated() -> None:
    protocol = ServiceProtocol.for_service("cloudwatch")
    doc = {"Namespace": "app", "MetricData": [{"MetricName": "m", "Value": 1.5}]}
    request = _json_request("cloudwatch", "PutMetricData", gzip.compress(json.dumps(doc).encode()))
    request.headers["content-encoding"] = "gzip"
    params = protocol.parse(request, protocol.find_operation(request))
    assert params == doc


def test_streaming_payload_arrives_as_a_body_and_others_as_bytes() -> None:
    s3 = ServiceProtocol.for_service("s3")
    put = HttpRequest("PUT", "/b/k", "", {"x-amz-meta-color": "blue"}, b"hello")
    put_op = s3.find_operation(put)
    params = s3.parse(put, put_op)
    assert isinstance(params["Body"], Body) and params["Body"].read() == b"hello"
    assert params["Metadata"] == {"color": "blue"}
    assert s3.has_streaming_input(put_op)
    assert not s3.has_streaming_input(s3.service_model.operation_model("CreateBucket"))

    lam = ServiceProtocol.for_service("lambda")
    invoke = HttpRequest("POST", "/2015-03-31/functions/f/invocations", "", {}, b'{"a": 1}')
    invoke_op = lam.find_operation(invoke)
    assert lam.parse(invoke, invoke_op)["Payload"] == b'{"a": 1}'
    assert not lam.has_streaming_input(invoke_op)


# --- validation ----------------------------------------------------------------------------------


def test_missing_required_members_are_all_reported_in_aws_words() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    operation = protocol.service_model.operation_model("GetItem")
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, {})
    assert (info.value.code, info.value.status) == ("ValidationException", 400)
    assert info.value.message == (
        "2 validation errors detected: "
        "Value null at 'tableName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'key' failed to satisfy constraint: Member must not be null"
    )


def test_pattern_violation_quotes_value_and_pattern() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    operation = protocol.service_model.operation_model("GetFunction")
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, {"FunctionName": "no spaces allowed"})
    message = info.value.message
    assert message.startswith(
        "1 validation error detected: Value 'no spaces allowed' at 'functionName' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
    )


def test_ranges_enums_and_lengths_are_checked() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    operation = protocol.service_model.operation_model("CreateFunction")
    params = {
        "FunctionName": "f",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Code": {"ZipFile": b"zip"},
        "Runtime": "python0.1",
        "MemorySize": 64,
        "Description": "d" * 300,
    }
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, params)
    message = info.value.message
    assert message.startswith("3 validation errors detected: ")
    assert (
        "Value 'python0.1' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ["
        in message
    )
    assert (
        "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"
        in message
    )
    assert (
        "at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"
        in message
    )


def test_nested_list_paths_use_aws_member_numbering() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    operation = protocol.service_model.operation_model("CreateTable")
    params = {
        "TableName": "t",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "X"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, params)
    assert "at 'attributeDefinitions.1.member.attributeType'" in info.value.message


def test_query_services_report_validation_error() -> None:
    protocol = ServiceProtocol.for_service("iam")
    operation = protocol.service_model.operation_model("CreateRole")
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, {"RoleName": "r" * 65, "AssumeRolePolicyDocument": "{}"})
    assert info.value.code == "ValidationError"
    assert "Member must have length less than or equal to 64" in info.value.message


def test_s3_reports_model_violations_as_invalid_argument() -> None:
    protocol = ServiceProtocol.for_service("s3")
    with pytest.raises(ServiceError) as info:
        protocol.validate(protocol.service_model.operation_model("PutObject"), {"Bucket": "b"})
    assert (info.value.code, info.value.status) == ("InvalidArgument", 400)


def test_sensitive_values_are_not_echoed() -> None:
    protocol = ServiceProtocol.for_service("secretsmanager")
    operation = protocol.service_model.operation_model("PutSecretValue")
    params = {"SecretId": "s", "SecretString": "hunter2" * 10000}
    with pytest.raises(ServiceError) as info:
        protocol.validate(operation, params)
    assert "hunter2" not in info.value.message
    assert "Value at 'secretString' failed to satisfy constraint" in info.value.message


def test_valid_params_pass() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    operation = protocol.service_model.operation_model("GetFunction")
    protocol.validate(operation, {"FunctionName": "my-function", "Qualifier": "$LATEST"})


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "héllo wörld_1:/=+-@", "a\x00"),
        (r"\A\S[\p{Print}]*\z", "ab c", " ab"),
        (r"arn:[\p{Alnum}\-]+:lambda:.*", "arn:aws-cn:lambda:x", "arn:aws_x:lambda:x"),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "ok \U0001f600", "\x01"),
        (r"[\w-_]*", "a-b_c", "a b"),
    ],
)
def test_java_patterns_are_translated_for_python(pattern: str, good: str, bad: str) -> None:
    compiled = compile_pattern(pattern)
    assert compiled is not None
    assert compiled.fullmatch(good)
    assert not compiled.fullmatch(bad)


# --- serializing ---------------------------------------------------------------------------------


def test_s3_range_get_streams_the_payload_with_status_and_headers(tmp_path: Path) -> None:
    protocol = ServiceProtocol.for_service("s3")
    operation = protocol.service_model.operation_model("GetObject")
    blob = tmp_path / "blob"
    blob.write_bytes(b"0123456789")
    payload = FileSlice(blob, 2, 4)
    result = {
        "Body": payload,
        "ContentLength": 4,
        "ContentRange": "bytes 2-5/10",
        "LastModified": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "Metadata": {"Color": "blue"},
        "__http_status__": 206,
        "__http_headers__": {"X-Extra": "1"},
    }
    response = protocol.serialize(operation, result, "req-9")
    assert response.status == 206
    assert response.body is payload
    assert response.headers["content-range"] == "bytes 2-5/10"
    assert response.headers["last-modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert response.headers["x-amz-meta-color"] == "blue"
    assert response.headers["x-extra"] == "1"
    assert response.headers["x-amz-request-id"] == "req-9"


def test_s3_list_objects_has_s3_root_and_namespace() -> None:
    protocol = ServiceProtocol.for_service("s3")
    operation = protocol.service_model.operation_model("ListObjectsV2")
    response = protocol.serialize(operation, {"Name": "b", "KeyCount": 0}, "r")
    assert isinstance(response.body, bytes)
    assert b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' in response.body
    assert response.headers["content-type"] == "application/xml"


def test_s3_error_has_s3_shape_and_extra_fields() -> None:
    protocol = ServiceProtocol.for_service("s3")
    operation = protocol.service_model.operation_model("GetObject")
    error = ServiceError(
        "The specified key does not exist.", code="NoSuchKey", status=404, Key="a<b"
    )
    response = protocol.serialize_error(error, operation, "req-1")
    assert response.status == 404
    assert isinstance(response.body, bytes)
    assert response.body.endswith(
        b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
        b"<Key>a&lt;b</Key><RequestId>req-1</RequestId><HostId>req-1</HostId></Error>"
    )


def test_errors_of_head_requests_and_304s_have_no_body() -> None:
    protocol = ServiceProtocol.for_service("s3")
    head = protocol.service_model.operation_model("HeadObject")
    response = protocol.serialize_error(ServiceError("x", code="NoSuchKey", status=404), head, "r")
    assert (response.status, response.body) == (404, b"")
    get = protocol.service_model.operation_model("GetObject")
    not_modified = ServiceError(
        "Not Modified", code="NotModified", status=304, headers={"ETag": '"e"'}
    )
    response = protocol.serialize_error(not_modified, get, "r")
    assert (response.status, response.body) == (304, b"")
    assert response.headers["etag"] == '"e"'


def test_json_error_has_type_message_and_errortype_header() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    operation = protocol.service_model.operation_model("GetItem")
    error = ServiceError("Requested resource not found", code="ResourceNotFoundException")
    response = protocol.serialize_error(error, operation, "r")
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {
        "__type": "ResourceNotFoundException",
        "message": "Requested resource not found",
    }
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert response.headers["content-type"] == "application/x-amz-json-1.0"


def test_query_compatible_error_carries_the_legacy_query_code() -> None:
    protocol = ServiceProtocol.for_service("sqs")
    operation = protocol.service_model.operation_model("GetQueueUrl")
    error = ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")
    response = protocol.serialize_error(error, operation, "r")
    assert (
        response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    )
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body)["__type"] == "QueueDoesNotExist"


def test_rest_json_error_is_lambda_shaped() -> None:
    protocol = ServiceProtocol.for_service("lambda")
    operation = protocol.service_model.operation_model("GetFunction")
    error = ServiceError("Function not found: f", code="ResourceNotFoundException", status=404)
    response = protocol.serialize_error(error, operation, "r")
    assert response.status == 404
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"Type": "User", "Message": "Function not found: f"}


def test_query_response_is_wrapped_in_result_and_metadata() -> None:
    protocol = ServiceProtocol.for_service("sts")
    operation = protocol.service_model.operation_model("GetCallerIdentity")
    result = {"Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root", "UserId": "u"}
    response = protocol.serialize(operation, result, "req-7")
    assert isinstance(response.body, bytes)
    body = response.body.decode()
    assert body.startswith(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult>"
    )
    assert body.endswith(
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>req-7</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    )


def test_query_error_response_shape() -> None:
    protocol = ServiceProtocol.for_service("iam")
    operation = protocol.service_model.operation_model("GetRole")
    error = ServiceError("Role r not found", code="NoSuchEntity", status=404)
    response = protocol.serialize_error(error, operation, "req-2")
    assert response.body == (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
        b"<Type>Sender</Type><Code>NoSuchEntity</Code><Message>Role r not found</Message>"
        b"</Error><RequestId>req-2</RequestId></ErrorResponse>"
    )


def test_json_timestamps_are_epoch_seconds() -> None:
    protocol = ServiceProtocol.for_service("logs")
    operation = protocol.service_model.operation_model("DescribeLogGroups")
    stamp = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    response = protocol.serialize(
        operation, {"logGroups": [{"logGroupName": "g", "creationTime": 1}]}, "r"
    )
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"logGroups": [{"logGroupName": "g", "creationTime": 1}]}
    sfn = ServiceProtocol.for_service("stepfunctions")
    describe = sfn.service_model.operation_model("DescribeStateMachine")
    response = sfn.serialize(describe, {"creationDate": stamp}, "r")
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"creationDate": 1704164645.678}


def test_unknown_result_keys_do_not_leak() -> None:
    protocol = ServiceProtocol.for_service("sqs")
    operation = protocol.service_model.operation_model("GetQueueUrl")
    response = protocol.serialize(operation, {"QueueUrl": "u", "internal_row_id": 7}, "r")
    assert isinstance(response, HttpResponse)
    assert response.body == b'{"QueueUrl":"u"}'


def test_absurdly_nested_json_is_rejected_not_crashed() -> None:
    protocol = ServiceProtocol.for_service("dynamodb")
    value = '{"S": "x"}'
    for _ in range(400):
        value = '{"M": {"a": ' + value + "}}"
    body = ('{"TableName": "t", "Item": {"pk": ' + value + "}}").encode()
    err = _error(protocol, _json_request("dynamodb", "PutItem", body))
    assert err.status == 400


def test_unparseable_conditional_date_is_ignored_as_http_says() -> None:
    protocol = ServiceProtocol.for_service("s3")
    good = HttpRequest("GET", "/b/k", "", {"if-modified-since": "Sun, 06 Nov 1994 08:49:37 GMT"})
    params = protocol.parse(good, protocol.find_operation(good))
    assert params["IfModifiedSince"] == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    bad = HttpRequest("GET", "/b/k", "", {"if-modified-since": "yesterday-ish"})
    assert "IfModifiedSince" not in protocol.parse(bad, protocol.find_operation(bad))

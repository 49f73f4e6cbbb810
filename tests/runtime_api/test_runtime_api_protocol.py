"""The Runtime API on the wire, driven with httpx and raw sockets playing the runtime; the test
plays the platform through ``submit``. Statuses and bodies are the RIE's."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lambdamaker.engines.functions.runtime_api import (
    MAX_PAYLOAD_BYTES,
    Invocation,
    Outcome,
    RuntimeAPIServer,
)


@pytest.fixture()
def server() -> Iterator[RuntimeAPIServer]:
    srv = RuntimeAPIServer().start()
    yield srv
    srv.close()


@pytest.fixture()
def client(server: RuntimeAPIServer) -> Iterator[httpx.Client]:
    base = f"http://{server.address}/2018-06-01/runtime"
    with httpx.Client(base_url=base, timeout=30) as c:
        yield c


def make_invocation(payload: bytes = b'{"k": 1}', **fields: Any) -> Invocation:
    values: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "payload": payload,
        "invoked_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
        "deadline_ms": int(time.time() * 1000) + 3000,
    }
    values.update(fields)
    return Invocation(**values)


def fetch(server: RuntimeAPIServer, client: httpx.Client) -> tuple[Invocation, httpx.Response]:
    invocation = make_invocation()
    server.submit(invocation)
    response = client.get("/invocation/next")
    assert response.status_code == 200
    return invocation, response


def raw_exchange(server: RuntimeAPIServer, data: bytes, responses: int = 1) -> bytes:
    """Send raw bytes on one connection; read until ``responses`` complete responses arrived."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while received.count(b"HTTP/1.1 ") - received.count(b"HTTP/1.1 100") < responses or (
            not _complete(received)
        ):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _complete(data: bytes) -> bool:
    head, sep, body = data.rpartition(b"\r\n\r\n")
    if not sep:
        return False
    last_head = head.rsplit(b"HTTP/1.1 ", 1)[-1]
    for line in last_head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def test_next_blocks_until_an_event_is_submitted_and_carries_the_lambda_headers(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    got: dict[str, httpx.Response] = {}
    poller = threading.Thread(target=lambda: got.update(r=client.get("/invocation/next")))
    poller.start()
    assert server.wait_initialized(10)  # the /next arrived and is parked
    assert "r" not in got
    invocation = make_invocation(
        b'{"hello": "world"}',
        trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        client_context='{"custom":{"k":"v"}}',
        cognito_identity='{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
    )
    server.submit(invocation)
    poller.join(10)
    response = got["r"]
    assert response.status_code == 200
    assert response.content == b'{"hello": "world"}'
    headers = response.headers
    assert headers["Lambda-Runtime-Aws-Request-Id"] == invocation.request_id
    assert headers["Lambda-Runtime-Deadline-Ms"] == str(invocation.deadline_ms)
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == invocation.invoked_function_arn
    assert headers["Lambda-Runtime-Trace-Id"] == invocation.trace_id
    assert json.loads(headers["Lambda-Runtime-Client-Context"]) == {"custom": {"k": "v"}}
    assert json.loads(headers["Lambda-Runtime-Cognito-Identity"]) == {
        "cognitoIdentityId": "id",
        "cognitoIdentityPoolId": "pool",
    }
    assert headers["Content-Type"] == "application/json"


def test_next_leaves_out_headers_that_have_no_value(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    _, response = fetch(server, client)
    assert "Lambda-Runtime-Client-Context" not in response.headers
    assert "Lambda-Runtime-Cognito-Identity" not in response.headers


def test_response_is_accepted_with_202_and_completes_the_invocation(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    response = client.post(f"/invocation/{invocation.request_id}/response", content=b'{"ok":1}')
    assert response.status_code == 202
    assert response.json() == {"status": "OK"}
    assert invocation.done.is_set()
    assert invocation.outcome is not None
    assert invocation.outcome.body == b'{"ok":1}'
    assert invocation.outcome.error_type is None
    assert server.state == "RuntimeResponseSentState"


def test_error_is_accepted_and_reaches_the_invoker_as_posted(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    body = {"errorMessage": "boom", "errorType": "MyError", "stackTrace": ["a", "b"]}
    response = client.post(
        f"/invocation/{invocation.request_id}/error",
        json=body,
        headers={"Lambda-Runtime-Function-Error-Type": "Unhandled"},
    )
    assert response.status_code == 202
    assert response.json() == {"status": "OK"}
    assert invocation.outcome is not None
    assert json.loads(invocation.outcome.body) == body
    assert invocation.outcome.error_type == "Unhandled"


def test_error_with_the_error_cause_content_type_drops_the_xray_cause(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    body = {
        "errorMessage": "boom",
        "errorType": "MyError",
        "stackTrace": [],
        "errorCause": {"working_directory": "/var/task", "exceptions": [], "paths": []},
    }
    response = client.post(
        f"/invocation/{invocation.request_id}/error",
        content=json.dumps(body),
        headers={"Content-Type": "application/vnd.aws.lambda.error.cause+json"},
    )
    assert response.status_code == 202
    assert invocation.outcome is not None
    assert json.loads(invocation.outcome.body) == {
        "errorMessage": "boom",
        "errorType": "MyError",
        "stackTrace": [],
    }


def test_error_body_that_is_not_json_is_wrapped_in_lambdas_error_shape(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    response = client.post(
        f"/invocation/{invocation.request_id}/error",
        content=b"segfault in handler",
        headers={"Lambda-Runtime-Function-Error-Type": "Runtime.Crash"},
    )
    assert response.status_code == 202
    assert invocation.outcome is not None
    assert json.loads(invocation.outcome.body) == {
        "errorType": "Runtime.Crash",
        "errorMessage": "segfault in handler",
    }


def test_response_for_an_unknown_request_id_is_400_invalid_request_id(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    for action in ("response", "error"):
        response = client.post(f"/invocation/not-{invocation.request_id}/{action}", content=b"{}")
        assert response.status_code == 400
        assert response.json() == {
            "errorMessage": "Invalid request ID",
            "errorType": "InvalidRequestID",
        }
    assert not invocation.done.is_set()


def test_second_response_for_a_completed_request_is_400(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    url = f"/invocation/{invocation.request_id}/response"
    assert client.post(url, content=b"1").status_code == 202
    again = client.post(url, content=b"2")
    assert again.status_code == 400
    assert again.json()["errorType"] == "InvalidRequestID"
    assert invocation.outcome is not None
    assert invocation.outcome.body == b"1"


def test_response_before_the_event_was_fetched_is_403_invalid_state_transition(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation = make_invocation()
    server.submit(invocation)
    response = client.post(f"/invocation/{invocation.request_id}/response", content=b"{}")
    assert response.status_code == 403
    assert response.json() == {
        "errorMessage": "State transition from Started to InvocationResponse failed for "
        "runtime. Error: State transition is not allowed",
        "errorType": "InvalidStateTransition",
    }
    assert not invocation.done.is_set()


def test_init_error_is_accepted_once_then_next_and_init_error_are_forbidden(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    error = {"errorMessage": "cannot load", "errorType": "Runtime.ConfigInvalid"}
    first = client.post(
        "/init/error", json=error, headers={"Lambda-Runtime-Function-Error-Type": "Runtime.X"}
    )
    assert first.status_code == 202
    assert first.json() == {"status": "OK"}
    assert server.wait_initialized(0)
    again = client.post("/init/error", json=error)
    assert again.status_code == 403
    assert again.json()["errorMessage"] == (
        "State transition from InitError to InitError failed for runtime. "
        "Error: State transition is not allowed"
    )
    nxt = client.get("/invocation/next")
    assert nxt.status_code == 403
    assert nxt.json()["errorType"] == "InvalidStateTransition"
    # The invoke that follows gets the init error as its result.
    invocation = make_invocation()
    server.submit(invocation)
    assert invocation.outcome is not None
    assert json.loads(invocation.outcome.body) == error
    assert invocation.outcome.error_type == "Runtime.X"


def test_init_error_after_the_first_event_is_forbidden(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    fetch(server, client)
    response = client.post("/init/error", json={"errorMessage": "late", "errorType": "X"})
    assert response.status_code == 403
    assert response.json()["errorMessage"].startswith("State transition from Ready to InitError")


def test_response_over_6_mb_is_413_and_the_invoker_gets_function_response_size_too_large(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    too_big = b"x" * (MAX_PAYLOAD_BYTES + 1)
    response = client.post(f"/invocation/{invocation.request_id}/response", content=too_big)
    assert response.status_code == 413
    assert response.json() == {
        "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "RequestEntityTooLarge",
    }
    assert invocation.outcome is not None
    assert invocation.outcome.error_type == "Function.ResponseSizeTooLarge"
    assert json.loads(invocation.outcome.body) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (6291557 bytes) exceeded maximum allowed "
        "payload size (6291556 bytes).",
    }
    # The connection is still usable, and the next event flows.
    _, nxt = fetch(server, client)
    assert nxt.status_code == 200


def test_response_of_exactly_the_limit_is_accepted(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    body = b"x" * MAX_PAYLOAD_BYTES
    response = client.post(f"/invocation/{invocation.request_id}/response", content=body)
    assert response.status_code == 202
    assert invocation.outcome is not None
    assert invocation.outcome.body == body


def test_chunked_response_body_is_read(server: RuntimeAPIServer, client: httpx.Client) -> None:
    invocation, _ = fetch(server, client)

    def parts() -> Iterator[bytes]:
        yield b'{"part": '
        yield b"1"
        yield b"}"

    response = client.post(f"/invocation/{invocation.request_id}/response", content=parts())
    assert response.status_code == 202
    assert invocation.outcome is not None
    assert invocation.outcome.body == b'{"part": 1}'


def test_expect_100_continue_gets_continue_before_the_body(server: RuntimeAPIServer) -> None:
    invocation = make_invocation()
    server.submit(invocation)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in sock.recv(65536)
        path = f"/2018-06-01/runtime/invocation/{invocation.request_id}/response"
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"true")
        assert sock.recv(65536).startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert invocation.outcome is not None
    assert invocation.outcome.body == b"true"


def test_keep_alive_serves_pipelined_calls_on_one_connection(server: RuntimeAPIServer) -> None:
    ping = b"GET /2018-06-01/ping HTTP/1.1\r\nHost: x\r\n\r\n"
    data = raw_exchange(server, ping * 3, responses=3)
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.endswith(b"pong")


def test_unknown_path_is_404_and_wrong_method_is_405(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    assert client.get("/nothing/here").status_code == 404
    assert client.get(f"http://{server.address}/2020-01-01/extension/register").status_code == 404
    assert client.post("/invocation/next").status_code == 405
    assert client.get("/invocation/abc/response").status_code == 405
    assert client.get("/init/error").status_code == 405


def test_malformed_request_gets_400_and_the_connection_closes(server: RuntimeAPIServer) -> None:
    data = raw_exchange(server, b"NONSENSE\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in data


def test_accepted_connections_have_tcp_nodelay(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    assert client.get(f"http://{server.address}/2018-06-01/ping").status_code == 200
    connections = list(server._connections)  # the live keep-alive connection of ``client``
    assert connections
    for conn in connections:
        assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_second_next_while_an_event_is_in_flight_returns_the_same_event(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, first = fetch(server, client)
    second = client.get("/invocation/next")
    assert second.status_code == 200
    assert second.headers["Lambda-Runtime-Aws-Request-Id"] == invocation.request_id
    assert second.content == first.content


def test_timed_out_invocation_rejects_a_late_response(
    server: RuntimeAPIServer, client: httpx.Client
) -> None:
    invocation, _ = fetch(server, client)
    assert server.complete(invocation, Outcome(b"{}", "Sandbox.Timedout", "timeout"))
    late = client.post(f"/invocation/{invocation.request_id}/response", content=b"late")
    assert late.status_code == 400
    assert invocation.outcome is not None
    assert invocation.outcome.reason == "timeout"


def test_close_releases_a_parked_next(server: RuntimeAPIServer, client: httpx.Client) -> None:
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            client.get("/invocation/next")
        except httpx.HTTPError as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    assert server.wait_initialized(10)
    server.close()
    poller.join(10)
    assert not poller.is_alive()
    assert errors  # the connection was closed under the parked /next

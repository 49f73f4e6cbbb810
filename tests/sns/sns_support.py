"""Helpers shared by the SNS delivery tests: queues, receiving, an http endpoint that records
(and on demand refuses) what SNS POSTs, and a verifier of SNS signatures written from AWS's
documentation ("Verifying the signatures of Amazon SNS messages")."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def new_queue(sqs: Any, fifo: bool = False, prefix: str = "q") -> tuple[str, str]:
    name = f"{prefix}-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive(sqs: Any, url: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Up to ``count`` messages, waiting for them (long polls) at most ``timeout`` seconds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
    return got


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        server: Any = self.server
        headers = {k.lower(): v for k, v in self.headers.items()}
        status = 200
        with server.lock:
            server.posts.append((headers, body))
            if headers.get("x-amz-sns-message-type") == "Notification" and server.failing:
                status = 500
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpEndpoint:
    """A local http subscriber; ``failing = True`` answers notifications with 500."""

    def __init__(self) -> None:
        self.server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.server.posts = []
        self.server.lock = threading.Lock()
        self.server.failing = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def failing(self) -> bool:
        return bool(self.server.failing)

    @failing.setter
    def failing(self, value: bool) -> None:
        with self.server.lock:
            self.server.failing = value

    def posts(self, kind: str | None = None) -> list[tuple[dict[str, str], str]]:
        with self.server.lock:
            posts = list(self.server.posts)
        return [p for p in posts if kind is None or p[0].get("x-amz-sns-message-type") == kind]

    def wait_for(self, kind: str, count: int, timeout: float = 30.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.posts(kind)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.posts(kind)


@contextmanager
def http_endpoint() -> Iterator[HttpEndpoint]:
    endpoint = HttpEndpoint()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()


def confirmed_http_subscription(sns: Any, topic: str, endpoint: HttpEndpoint, **kw: Any) -> str:
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, **kw)
    [(_, body)] = endpoint.wait_for("SubscriptionConfirmation", 1)
    token = json.loads(body)["Token"]
    arn: str = sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
    return arn


# --- verifying a signature as AWS documents it -------------------------------------------------


def aws_string_to_sign(message: dict[str, Any]) -> bytes:
    """Build the string to sign as AWS's documentation lists it, field by field."""
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:  # SubscriptionConfirmation, UnsubscribeConfirmation
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    out = ""
    for key in keys:
        if key == "Subject" and key not in message:
            continue
        out += f"{key}\n{message[key]}\n"
    return out.encode("utf-8")


def verify_sns_message(message: dict[str, Any]) -> None:
    """Raise unless ``message`` verifies against the certificate at its SigningCertURL."""
    cert_url = message.get("SigningCertURL") or message["SigningCertUrl"]
    with urllib.request.urlopen(cert_url, timeout=10) as response:
        cert = x509.load_pem_x509_certificate(response.read())
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    digest: hashes.HashAlgorithm = (
        hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    )
    assert message["SignatureVersion"] in ("1", "2")
    public_key.verify(
        base64.b64decode(message["Signature"]),
        aws_string_to_sign(message),
        padding.PKCS1v15(),
        digest,
    )

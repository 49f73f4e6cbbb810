"""``SdkHttpMetadata`` / ``SdkResponseMetadata``: what AWS's optimized integrations add to a
result (Lambda, SQS, SNS, DynamoDB), built from the response this platform would have sent.

The body length and content type come from serializing the result with the gateway's own
serializer, so ``Content-Length`` is what a client of this server would have read. Header names
and their spelling follow each service's recorded responses (``Connection`` vs ``connection``).
"""

from __future__ import annotations

import re
import zlib
from email.utils import formatdate
from typing import Any

from lambdamaker.services.stepfunctions.integrations.calls import CallResult, protocol_for

_CONTENT_TYPES = {
    "json": "application/x-amz-json-1.0",
    "query": "text/xml",
    "rest-json": "application/json",
    "rest-xml": "application/xml",
}


def _body(service: str, result: CallResult) -> bytes:
    protocol = protocol_for(service)
    response = protocol.serialize(result.operation, result.output, result.request_id)
    body = response.body
    if not isinstance(body, bytes):
        return b""
    if protocol.protocol == "query":
        # AWS's query services (SNS) indent their XML two spaces a level, one element a line.
        return pretty_xml(body.decode()).encode()
    return body


_XML_TOKENS = re.compile(r"<[^>]+>|[^<]+")


def pretty_xml(compact: str) -> str:
    """Element-only XML laid out as AWS's query services send it (leaves on one line)."""
    tokens = [t for t in _XML_TOKENS.findall(compact) if not t.startswith("<?") and t.strip()]
    lines: list[str] = []
    depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.startswith("</"):
            depth -= 1
            lines.append("  " * depth + token)
            i += 1
        elif not token.startswith("<") or token.endswith("/>"):
            lines.append("  " * depth + token)
            i += 1
        elif following.startswith("</"):
            lines.append("  " * depth + token + following)
            i += 2
        elif (
            not following.startswith("<")
            and tokens[i + 2 : i + 3]
            and tokens[i + 2].startswith("</")
        ):
            lines.append("  " * depth + token + following + tokens[i + 2])
            i += 3
        else:
            lines.append("  " * depth + token)
            depth += 1
            i += 1
    return "\n".join(lines) + "\n"


def sdk_metadata(service: str, result: CallResult, **extra: str) -> dict[str, Any]:
    """The two metadata members of an optimized integration's result."""
    body = _body(service, result)
    protocol = protocol_for(service).protocol
    if service == "sqs":
        # SQS answers the JSON protocol (1.0) to the SDK AWS's integrations use.
        protocol = "json"
    headers: dict[str, str] = {
        "Content-Length": str(len(body)),
        "Content-Type": _CONTENT_TYPES.get(protocol, "application/json"),
        "Date": formatdate(usegmt=True),
    }
    if service == "lambda":
        headers["Connection"] = "keep-alive"
        headers["X-Amz-Executed-Version"] = extra.get("executed_version", "$LATEST")
        headers["X-Amzn-Trace-Id"] = extra.get("trace_id", "")
        headers["x-amzn-Remapped-Content-Length"] = "0"
    elif service == "dynamodb":
        headers["Connection"] = "keep-alive"
        headers["Server"] = "Server"
        headers["x-amz-crc32"] = str(zlib.crc32(body))
    else:
        headers["connection"] = "keep-alive"
    headers["x-amzn-RequestId"] = result.request_id
    ordered = dict(sorted(headers.items()))
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in ordered.items()},
            "HttpHeaders": ordered,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": result.request_id},
    }

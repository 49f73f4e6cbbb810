"""Message bodies and message attributes: validation, size, the MD5 digests AWS returns.

``attributes_md5`` follows the algorithm the SQS developer guide documents (and SDKs verify):
attributes sorted by name; for each, the name, the data type and the value are each encoded as
a 4-byte big-endian length followed by the bytes, with a one-byte transport type (1 for String
and Number, 2 for Binary) between the data type and the value. Stored attributes keep binary
values base64-encoded so the row is plain JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from typing import Any

from lambdamaker.services.sqs.errors import invalid_parameter

MAX_ATTRIBUTES = 10
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
# XML 1.0's characters: what SQS accepts in bodies and string values.
_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def body_md5(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def check_text(text: str) -> None:
    if _INVALID_CHARS.search(text):
        raise invalid_parameter(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
            "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


def _transport(data_type: str) -> str:
    return data_type.split(".", 1)[0]


def normalize_attributes(attributes: dict[str, Any]) -> tuple[dict[str, dict[str, str]], int]:
    """Validated attributes in stored form (binary as base64) and their size in bytes as AWS
    counts it against the message size limit (names, types and values)."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise invalid_parameter(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    out: dict[str, dict[str, str]] = {}
    size = 0
    for name, value in attributes.items():
        lowered = name.lower()
        if (
            not _NAME.fullmatch(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or lowered.startswith(("aws.", "amazon."))
        ):
            raise invalid_parameter(f"Message attribute name '{name}' is invalid.")
        data_type = str(value.get("DataType") or "")
        transport = _transport(data_type)
        if transport not in ("String", "Number", "Binary"):
            raise invalid_parameter(
                f"The type of message (user) attribute '{name}' is invalid. You must use only "
                "the following supported type prefixes: Binary, Number, String."
            )
        if transport == "Binary":
            blob = value.get("BinaryValue")
            if blob is None or value.get("StringValue") is not None:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of "
                    "message attribute type 'Binary'."
                )
            raw = bytes(blob)
            out[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(raw).decode()}
            size += len(raw)
        else:
            text = value.get("StringValue")
            if not text or value.get("BinaryValue") is not None:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of "
                    f"message attribute type '{transport}'."
                )
            text = str(text)
            if transport == "Number":
                _check_number(name, text)
            check_text(text)
            out[name] = {"DataType": data_type, "StringValue": text}
            size += len(text.encode())
        size += len(name.encode()) + len(data_type.encode())
    return out, size


def _check_number(name: str, text: str) -> None:
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number != number or abs(number) >= 1e126:
        raise invalid_parameter(
            f"Can't cast the value of message (user) attribute '{name}' to a number."
        )


def attributes_md5(attributes: dict[str, dict[str, str]]) -> str:
    digest = hashlib.md5(usedforsecurity=False)

    def field(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)))
        digest.update(data)

    for name in sorted(attributes):
        value = attributes[name]
        field(name.encode())
        field(value["DataType"].encode())
        if "BinaryValue" in value:
            digest.update(b"\x02")
            field(base64.b64decode(value["BinaryValue"]))
        else:
            digest.update(b"\x01")
            field(value["StringValue"].encode())
    return digest.hexdigest()


def wire_attributes(attributes: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Stored attributes in the shape the API returns (binary values as bytes)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        if "BinaryValue" in value:
            out[name] = {
                "DataType": value["DataType"],
                "BinaryValue": base64.b64decode(value["BinaryValue"]),
            }
        else:
            out[name] = dict(value)
    return out


def select_attributes(
    attributes: dict[str, dict[str, str]], wanted: list[str]
) -> dict[str, dict[str, str]]:
    """The attributes a ReceiveMessage's ``MessageAttributeNames`` asks for: names, ``All``,
    ``.*`` or ``prefix.*``."""
    if not wanted:
        return {}
    if "All" in wanted or ".*" in wanted:
        return attributes
    prefixes = tuple(w[:-1] for w in wanted if w.endswith(".*"))
    exact = set(wanted)
    return {
        k: v for k, v in attributes.items() if k in exact or (prefixes and k.startswith(prefixes))
    }


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))

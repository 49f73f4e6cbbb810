"""Replaying AWS-recorded Step Functions executions (``../shared/conformance/stepfunctions``).

Each case is a definition, an input and what AWS answered: status plus output, or error and
cause. Expected values hold placeholders for what changes between runs (README of the
conformance data): ``<...>`` parts (ARN parts, uuids), the account ``111111111111``, and whole
strings that are the recording tool's redaction labels (``timestamp``, ``date``,
``RandomNumberGenerated``, and the labels LocalStack's snapshots put in place of a role ARN,
request ids, queue URLs, table names, dates and per-request headers); a string that is one
whole ``<...>`` placeholder stands for any value, number or string. A placeholder matches any value; everything else must be equal, with
JSON types (``1`` is not ``1.0``, ``true`` is not ``1``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

CASES_FILE = (
    Path(__file__).resolve().parents[2].parent / "shared/conformance/stepfunctions/cases.jsonl"
)

# Whole-string labels standing for values that change per run.
LABELS = frozenset(
    {
        "timestamp",
        "date",
        "RandomNumberGenerated",
        "snf_role_arn",
        "X-Amzn-Trace-Id",
        "x-amzn-RequestId",
        "RequestId",
        "sqs_queue_url",
        "table-name",
        "start-date",
        "stop-date",
        "x-amz-crc32",
    }
)
_WHOLE_PLACEHOLDER = re.compile(r"<[^<>]*>\Z")
_PLACEHOLDER = re.compile(r"(<[^<>]*>|111111111111)")


def load_cases() -> list[dict[str, Any]]:
    with CASES_FILE.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def category(case: dict[str, Any]) -> str:
    needs = case["needs"]
    if not needs["pure"]:
        return "services"
    return "jsonata" if needs["jsonata"] else "jsonpath"


def _pattern(text: str) -> re.Pattern[str] | None:
    if text in LABELS or _WHOLE_PLACEHOLDER.match(text):
        return None
    pieces = _PLACEHOLDER.split(text)
    regex = "".join(".*?" if index % 2 else re.escape(piece) for index, piece in enumerate(pieces))
    return re.compile(regex + r"\Z", re.S)


def matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str):
        pattern = _pattern(expected)
        if pattern is None:
            return True
        return isinstance(actual, str) and pattern.match(actual) is not None
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(matches(value, actual[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(a, b) for a, b in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return type(expected) is type(actual) and expected == actual


def mismatch(case: dict[str, Any], described: dict[str, Any]) -> str | None:
    """Why DescribeExecution's answer differs from what AWS recorded (None: it matches)."""
    expected = case["expected"]
    status = described.get("status")
    if status != expected["status"]:
        return (
            f"status {status} (error {described.get('error')!r}, cause "
            f"{str(described.get('cause'))[:300]!r}), expected {expected['status']}"
        )
    if status == "SUCCEEDED":
        want = expected.get("output")
        got_text = described.get("output", "null")
        got = json.loads(got_text)
        if isinstance(want, str) and not want.startswith("{"):
            ok = matches(want, got_text)
        else:
            ok = matches(json.loads(want) if isinstance(want, str) else want, got)
        return None if ok else f"output {got_text[:400]} != {json.dumps(want)[:400]}"
    for field in ("error", "cause"):
        want = expected.get(field)
        got = described.get(field)
        if want is None and got in (None, ""):
            continue
        if isinstance(want, dict | list) and isinstance(got, str):
            try:
                ok = matches(want, json.loads(got))
            except ValueError:
                ok = False
        else:
            ok = want is not None and matches(want, got)
        if not ok:
            return f"{field} {got!r} != {want!r}"
    return None

"""Every definition AWS accepted in the recorded conformance executions passes validation.

The cases were created on real AWS, so each definition is one AWS accepted. Task resources in
the file are placeholders (``<create_lambda_function>()_...``) that a replay replaces with real
ARNs, so definitions with Task states are checked with their resources swapped for a valid ARN.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lambdamaker.engines.workflows.validation import parse_valid

CASES = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "conformance"
    / "stepfunctions"
    / "cases.jsonl"
)
_PLACEHOLDER = re.compile(r"<[a-z_]+>\(\)_[A-Za-z_]+")
_ARN = "arn:aws:lambda:us-east-1:000000000000:function:placeholder"


def _cases() -> list[dict[str, Any]]:
    if not CASES.is_file():
        return []
    return [
        json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


ALL = _cases()
CHOICE_AND_PASS = [case for case in ALL if set(case["needs"]["states"]) <= {"Pass", "Choice"}]


@pytest.mark.skipif(not ALL, reason=f"conformance data not found at {CASES}")
def test_every_pass_and_choice_definition_is_valid() -> None:
    assert len(CHOICE_AND_PASS) > 300
    rejected = []
    for case in CHOICE_AND_PASS:
        try:
            parse_valid(case["definition"])
        except Exception as exc:
            rejected.append((case["id"], str(exc)))
    assert rejected == []


@pytest.mark.skipif(not ALL, reason=f"conformance data not found at {CASES}")
def test_every_recorded_definition_is_valid_once_placeholders_are_arns() -> None:
    rejected = []
    for case in ALL:
        definition = _PLACEHOLDER.sub(_ARN, case["definition"])
        try:
            parse_valid(definition)
        except Exception as exc:
            rejected.append((case["id"], str(exc)))
    assert rejected == []

"""Recursive loop detection: X-Ray trace headers that count how often a chain runs a function.

Lambda gives every invocation an X-Ray trace header (``_X_AMZN_TRACE_ID`` in the function's
environment). botocore sends it back as ``X-Amzn-Trace-Id`` on every call the function makes
(``add_recursion_detection_header``, active when ``AWS_LAMBDA_FUNCTION_NAME`` is set), so an
invocation caused by a function carries its cause's header. Lambda adds a ``Lineage`` field to
the header: for each function of the chain, a short hash of its ARN and how many times the
chain has run it (``Lineage=9f3c1a2b:3|04d2e6aa:1``). When an invocation would run a function
for the 17th time in one chain, Lambda stops it: a synchronous Invoke fails with
``RecursiveInvocationException``, an asynchronous event goes to the OnFailure destination or
dead-letter queue.

Invariants:
- ``next_trace`` is pure: an event retried keeps the header it arrived with, so a retry never
  counts as one more hop of its chain.
- The root (``Root=1-...``) of a chain is kept along it; each invocation gets a fresh
  ``Parent``. Sampling is always off (there is no X-Ray service here).
- A header we cannot parse is treated as no header: a new chain starts.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import unquote

MAX_CHAIN = 16
"""Lambda stops a loop after about 16 invocations of one function in one chain."""

HEADER = "x-amzn-trace-id"


@dataclass(frozen=True)
class Trace:
    header: str
    """What the invocation sees as ``_X_AMZN_TRACE_ID``."""
    count: int
    """How many times the chain has now run this function (1 for a fresh chain)."""

    @property
    def looping(self) -> bool:
        return self.count > MAX_CHAIN


@functools.lru_cache(maxsize=4096)
def function_hash(function_arn: str) -> str:
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def _fields(header: str | None) -> dict[str, str]:
    if not header:
        return {}
    out: dict[str, str] = {}
    for part in unquote(header).split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key] = value
    return out


def _lineage(value: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in value.split("|"):
        pieces = entry.split(":")
        # Lambda's own form may carry a leading format version (``1:hash:count``).
        if len(pieces) >= 2 and pieces[-1].isdigit():
            counts[pieces[-2]] = int(pieces[-1])
    return counts


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def next_trace(incoming: str | None, function_arn: str) -> Trace:
    """The header of an invocation of ``function_arn`` caused by a call carrying ``incoming``
    (None for a call from outside any function)."""
    fields = _fields(incoming)
    counts = _lineage(fields.get("Lineage", ""))
    key = function_hash(function_arn)
    counts[key] = counts.get(key, 0) + 1
    lineage = "|".join(f"{k}:{v}" for k, v in counts.items())
    root = fields.get("Root") or new_root()
    header = f"Root={root};Parent={secrets.token_hex(8)};Sampled=0;Lineage={lineage}"
    return Trace(header=header, count=counts[key])

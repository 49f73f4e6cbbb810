"""The functions Step Functions adds to JSONata, and the one it takes away.

AWS documents six additions (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``,
``$parse``) and removes ``$eval`` (``$parse`` replaces it). They live in one JSONata frame,
``AWS_FRAME``, whose parent is the library's frame of built-ins, so every compiled expression
sees them without a per-evaluation cost; a user variable of the same name shadows them like
any JSONata binding.

Invariants:
- each function validates its arguments with a JSONata signature (so a wrong type is the
  library's ``T0410``/``T0412`` error, as for built-ins) and then its own limits, raising
  ``FunctionError`` whose message becomes the evaluation error's text;
- results are JSONata values: ``None`` means undefined, ``Utils.NULL_VALUE`` is JSON null;
  ``$range`` returns a sequence, so a one-element range collapses to its item as AWS shows
  (``$range(1, 9, 9)`` is ``1``);
- ``$random(seed)`` is a pure function of the seed; ``$random()`` and ``$uuid()`` draw from
  the process's generators.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from lambdamaker.engines.workflows.jsonata_lib import JException, Jsonata, Utils

# AWS's documented limits (the same as the States.* intrinsics these functions replace).
MAX_RANGE_ITEMS = 1000
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class FunctionError(Exception):
    """A failure inside an AWS-added function; ``code`` mirrors JSONata's error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Native:
    """Adapts a Python function to the library's ``JFunction`` calling convention."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def call(self, _input: Any, args: Sequence[Any] | None) -> Any:
        return self.fn(*(args or ()))


def _define(name: str, fn: Callable[..., Any], signature: str) -> Any:
    function = Jsonata.JFunction(_Native(fn), signature)
    function.signature.set_function_name(name)
    return function


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and float(value).is_integer()


def _partition(array: Any, size: Any) -> Any:
    if array is None or size is None:
        return None
    if not _is_integral(size) or size <= 0:
        raise FunctionError(
            "D3301", "The chunk size argument of function $partition must be a positive integer"
        )
    items = list(array) if isinstance(array, list) else [array]
    step = int(size)
    return [items[i : i + step] for i in range(0, len(items), step)]


def _range(start: Any, end: Any, step: Any) -> Any:
    if start is None or end is None or step is None:
        return None
    if not (_is_integral(start) and _is_integral(end) and _is_integral(step)):
        raise FunctionError("D3302", "The arguments of function $range must be integers")
    first, last, stride = int(start), int(end), int(step)
    if stride == 0:
        raise FunctionError("D3303", "The step argument of function $range must not be zero")
    count = max(0, (last - first) // stride + 1)
    if count > MAX_RANGE_ITEMS:
        raise FunctionError(
            "D3304",
            f"The function $range cannot produce more than {MAX_RANGE_ITEMS} items",
        )
    return Utils.create_sequence_from_iter(first + i * stride for i in range(count))


def _hash(data: Any, algorithm: Any) -> Any:
    if data is None or algorithm is None:
        return None
    name = HASH_ALGORITHMS.get(algorithm)
    if name is None:
        raise FunctionError(
            "D3305",
            f"The hash algorithm '{algorithm}' is not supported; use one of "
            + ", ".join(HASH_ALGORITHMS),
        )
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    if seed is None:
        return random.random()
    if not _is_integral(seed):
        raise FunctionError("D3306", "The seed argument of function $random must be an integer")
    return random.Random(int(seed)).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _to_jsonata(value: Any) -> Any:
    """A ``json.loads`` value as JSONata holds it: JSON null becomes ``NULL_VALUE``."""
    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {k: _to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_jsonata(v) for v in value]
    return value


def _parse(text: Any) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FunctionError(
            "D3307", f"The argument of function $parse is not a valid JSON string: {text}"
        ) from exc
    return _to_jsonata(value)


def _no_eval(*_args: Any) -> Any:
    raise JException("T1006", 0)


def _frame() -> Any:
    frame = Jsonata.Frame(Jsonata.static_frame)
    frame.bind("partition", _define("partition", _partition, "<an:a>"))
    frame.bind("range", _define("range", _range, "<nnn:a>"))
    frame.bind("hash", _define("hash", _hash, "<ss:s>"))
    frame.bind("random", _define("random", _random, "<n?:n>"))
    frame.bind("uuid", _define("uuid", _uuid, "<:s>"))
    frame.bind("parse", _define("parse", _parse, "<s:x>"))
    # $eval is not available in Step Functions: invoking it is "not a function" (T1006).
    frame.bind("eval", _define("eval", _no_eval, "<x*:x>"))
    return frame


AWS_FRAME = _frame()
"""Parent frame of every compiled expression: the built-ins plus AWS's functions."""

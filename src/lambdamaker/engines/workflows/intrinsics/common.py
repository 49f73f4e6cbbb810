"""What every intrinsic function shares: the failure it raises and argument coercions.

AWS reports a bad argument (wrong type, out of range, over a limit, wrong count) at run time as
``States.Runtime`` with the cause ``Invalid arguments in States.<Name>``: observed on AWS for
every function (including arity errors, which CreateStateMachine does not reject), so
``States.ALL`` does not catch it. The interpreter adds its usual ``An error occurred while
executing the state ...`` prefix.

Numbers: AWS (Java) converts a fractional count or index to an integer by truncation toward
zero (``ArrayRange(1.6, 1.4, 1)`` is ``[1]``, ``ArrayPartition(a, 2.6)`` uses 2), except
MathAdd, which rounds half up (``MathAdd(1.6, 2.7)`` is 5). Booleans are never numbers.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError

# The error name AWS raises for an intrinsic's bad arguments (see the module docstring).
ERROR = RUNTIME


def invalid(name: str) -> NoReturn:
    """Raise AWS's failure for bad arguments to the intrinsic ``name`` (``States.X``)."""
    raise StatesError(ERROR, f"Invalid arguments in {name}")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truncated(name: str, value: Any) -> int:
    """``value`` as an int, truncated toward zero; invalid for non-numbers and non-finite."""
    if not is_number(value):
        invalid(name)
    if isinstance(value, float):
        if not math.isfinite(value):
            invalid(name)
        return int(value)
    return int(value)


def rounded(name: str, value: Any) -> int:
    """``value`` rounded half up (Java's ``Math.round``); invalid for non-numbers."""
    if not is_number(value):
        invalid(name)
    if isinstance(value, float):
        if not math.isfinite(value):
            invalid(name)
        return math.floor(value + 0.5)
    return int(value)


def to_json(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is (what AWS's serializer writes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_key(value: Any) -> str:
    """A key equal for equal JSON values: objects ignore key order, ``1`` differs from ``true``."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)

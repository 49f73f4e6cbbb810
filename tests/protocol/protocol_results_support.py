"""Random provider results for an output shape, shared by the writer tests of this folder."""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


def result_for(shape: Shape, rng: random.Random, dirt: float, depth: int = 0) -> Any:
    """A provider-convention value for ``shape``; with probability ``dirt`` at each place, a
    null, an unknown key, a tuple, a mapping subclass or a non-finite float."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return {"any": [1, None]}
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if depth < 5 and rng.random() < 0.6:
                dirty = rng.random() < dirt
                out[name] = None if dirty else result_for(member, rng, dirt, depth + 1)
        if rng.random() < dirt:
            out["NotAMember"] = "x"
        return OrderedDict(out) if rng.random() < dirt / 4 else out
    if isinstance(shape, ListShape):
        count = rng.randint(0, 3)
        items = [result_for(shape.member, rng, dirt, depth + 1) for _ in range(count)]
        if items and rng.random() < dirt:
            items[rng.randrange(len(items))] = None
        return tuple(items) if rng.random() < dirt / 4 else items
    if isinstance(shape, MapShape):
        value = shape.value
        out = {f"k{i}": result_for(value, rng, dirt, depth + 1) for i in range(rng.randint(0, 3))}
        if out and rng.random() < dirt:
            out["knull"] = None
        return out
    if kind in ("string", "character"):
        return rng.choice(["a", "", "é"])
    if kind in ("integer", "long", "short", "byte"):
        return rng.randint(-5, 5)
    if kind in ("float", "double", "bigdecimal"):
        if rng.random() < dirt:
            return rng.choice([math.nan, math.inf, -math.inf])
        return rng.choice([1.5, 2, 0.0])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return rng.choice([b"", b"\x00\xff", bytearray(b"ab")])
    if kind == "timestamp":
        return datetime(2024, 1, 2, 3, 4, 5, rng.choice([0, 123000]), tzinfo=UTC)
    return None

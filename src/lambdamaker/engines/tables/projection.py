"""ProjectionExpression: a comma-separated list of document paths, applied to an item.

Invariants: paths may not overlap (DynamoDB's error); projecting builds a new item holding only
the requested paths, nested maps kept as maps and projected list elements compacted in index
order (``a[3]`` alone yields ``a: [element 3]``); missing paths are silently skipped.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.tables.attributes import ExpressionAttributes
from lambdamaker.engines.tables.grammar import FLAT_PRIORITY, BaseParser
from lambdamaker.engines.tables.paths import Path, path_clashes
from lambdamaker.engines.tables.values import Item, TypedValue

KIND = "ProjectionExpression"


def parse_projection(text: str, attrs: ExpressionAttributes) -> list[Path]:
    parser = BaseParser(text, KIND, attrs)
    paths = [parser.path()]
    while parser.at(","):
        parser.advance()
        paths.append(parser.path())
    parser.expect_end()
    for category, message in path_clashes(paths).items():
        parser.defer(category, message)
    parser.finish_flat(FLAT_PRIORITY)
    return paths


def _trie(paths: list[Path]) -> dict[Any, Any]:
    root: dict[Any, Any] = {}
    for path in paths:
        node = root
        for element in path[:-1]:
            node = node.setdefault(element, {})
        node[path[-1]] = None  # leaf: take the whole value
    return root


def _select(value: TypedValue, trie: dict[Any, Any]) -> TypedValue | None:
    if "M" in value:
        members: dict[str, TypedValue] = {}
        for key, sub in trie.items():
            if isinstance(key, str) and key in value["M"]:
                picked = value["M"][key] if sub is None else _select(value["M"][key], sub)
                if picked is not None:
                    members[key] = picked
        return {"M": members} if members else None
    if "L" in value:
        elements: list[TypedValue] = []
        for index in sorted(k for k in trie if isinstance(k, int)):
            if index < len(value["L"]):
                sub = trie[index]
                picked = value["L"][index] if sub is None else _select(value["L"][index], sub)
                if picked is not None:
                    elements.append(picked)
        return {"L": elements} if elements else None
    return None


def project(item: Item, paths: list[Path]) -> Item:
    """A new item holding only ``paths`` of ``item`` (values are shared, not copied)."""
    result: Item = {}
    for name, sub in _trie(paths).items():
        if name not in item:
            continue
        picked = item[name] if sub is None else _select(item[name], sub)
        if picked is not None:
            result[name] = picked
    return result

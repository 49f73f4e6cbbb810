"""Document paths: ``a.b[1].c`` as a tuple of map keys (str) and list indexes (int).

Invariants: a path starts with a top-level attribute name (str); reading a path through a value
of the wrong type yields ``None`` (missing), never an error; ``format_path`` reproduces
DynamoDB's rendering in overlap errors (``[a, b, [1]]``).
"""

from __future__ import annotations

from lambdamaker.engines.tables.values import Item, TypedValue

PathElement = str | int
Path = tuple[PathElement, ...]

MAX_DEPTH = 32


def get_path(item: Item, path: Path) -> TypedValue | None:
    """The value at ``path`` in ``item``, or ``None`` when any step is missing or mistyped."""
    head = path[0]
    assert isinstance(head, str)
    current: TypedValue | None = item.get(head)
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            if items is None or element >= len(items):
                return None
            current = items[element]
        else:
            members = current.get("M")
            if members is None:
                return None
            current = members.get(element)
    return current


def format_path(path: Path) -> str:
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


def overlap(one: Path, two: Path) -> bool:
    """One path is a prefix of (or equal to) the other."""
    shorter = min(len(one), len(two))
    return one[:shorter] == two[:shorter]


def conflict(one: Path, two: Path) -> bool:
    """The paths diverge at a step where one indexes a list and the other keys a map."""
    for a, b in zip(one, two, strict=False):
        if a == b:
            continue
        return isinstance(a, int) != isinstance(b, int)
    return False


def path_clashes(paths: list[Path]) -> dict[str, str]:
    """DynamoDB's overlap / conflict errors among ``paths`` (first pair found, per kind)."""
    found: dict[str, str] = {}
    for j, two in enumerate(paths):
        for one in paths[:j]:
            rendered = f"path one: {format_path(one)}, path two: {format_path(two)}"
            if overlap(one, two):
                found.setdefault(
                    "overlap",
                    "Two document paths overlap with each other; must remove or rewrite one of"
                    f" these paths; {rendered}",
                )
            elif conflict(one, two):
                found.setdefault(
                    "conflict",
                    "Two document paths conflict with each other; must remove or rewrite one of"
                    f" these paths; {rendered}",
                )
    return found

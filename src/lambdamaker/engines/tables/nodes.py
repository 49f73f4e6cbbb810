"""Expression syntax trees shared by conditions, key conditions and updates.

Invariants: nodes are immutable; placeholders are already resolved (paths hold real attribute
names, values hold typed values), so evaluation never needs the attribute maps again.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdamaker.engines.tables.paths import Path
from lambdamaker.engines.tables.values import TypedValue


@dataclass(frozen=True, slots=True)
class PathOperand:
    path: Path


@dataclass(frozen=True, slots=True)
class ValueOperand:
    value: TypedValue
    placeholder: str

    def __hash__(self) -> int:
        return hash(self.placeholder)


@dataclass(frozen=True, slots=True)
class SizeOperand:
    operand: Operand


Operand = PathOperand | ValueOperand | SizeOperand


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Function:
    name: str  # attribute_exists attribute_not_exists attribute_type begins_with contains
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


Node = Comparison | Between | In | Function | Not | And | Or

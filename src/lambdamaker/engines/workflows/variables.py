"""Workflow variables of JSONPath states: ``Assign`` and variable scopes.

``Assign`` is an object of bindings: ``"name": <literal or template>`` or ``"name.$": <path or
intrinsic>`` (the ``.$`` form reads ``$`` data, ``$$`` context or ``$other`` variables). What
``$`` means is the caller's choice, following AWS ("Passing data between states with
variables"):

- Pass: the state's result (``Result`` / ``Parameters`` output, else the effective input);
- Task, Parallel, Map: the result after ``ResultSelector``, before ``ResultPath``;
- Choice, Wait, Succeed: the effective input (after ``InputPath``); a Choice rule's own
  ``Assign`` (when it matches) replaces the state-level one;
- a Catcher's ``Assign``: the error output (``{"Error": ..., "Cause": ...}``).

Invariants (AWS's evaluation-order rules):
- every binding of one ``Assign`` is evaluated against the variables as they were *before* the
  state assigned anything, so ``{"x.$": "$y", "y": 1}`` reads the old ``y``; the new bindings
  are returned together and applied by the caller after the state's output is computed
  (OutputPath / Output never see them);
- a scope is a ``ChainMap``: a Parallel branch or Map iteration reads its enclosing scopes and
  writes only its own layer (``scope.update(bindings)``), so nothing assigned inside a branch is
  visible outside it or to sibling branches.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

from lambdamaker.engines.workflows.templates import render


def evaluate_assign(
    assign: Mapping[str, Any],
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> dict[str, Any]:
    """The new bindings of ``assign`` (names without ``.$``), all read from the old scope."""
    rendered = render(dict(assign), data, context, variables, field="Assign")
    # render returns a fresh dict, so later writes by the caller never touch ``assign``.
    return rendered if isinstance(rendered, dict) else {}


def branch_scope(outer: Mapping[str, Any]) -> collections.ChainMap[str, Any]:
    """A new scope for a Parallel branch or Map iteration: reads fall through to ``outer``,
    writes stay in the new innermost layer."""
    if isinstance(outer, collections.ChainMap):
        return outer.new_child()
    return collections.ChainMap({}, outer)  # type: ignore[arg-type]

"""Precompiled plans for states the walk can run synchronously on a quiet journal.

An Express execution without logging runs on a journal that offers ``mark`` (events are only
numbered, never built). For such a journal a JSONPath Pass state whose fields read only the
state's data (no ``$$`` context, no ``$variable``, no intrinsic, no ``Assign``) needs neither
a ``Visit`` (context object, scope, ``Step``) nor a coroutine: ``plan_for(state)`` compiles it
once into a ``PassPlan`` whose ``apply(raw)`` does the state's whole data flow (InputPath,
Parameters, Result, ResultPath, OutputPath) as plain calls, and never changes its input;
``quick_run.run_planned`` walks a run of planned states, numbering their Entered/Exited
events on a lease of ids. The payload limit is checked as ``Visit.leave`` checks it, except
that an output whose JSON size is provably under the limit (a bound from the input's size,
``grow_a``/``grow_b``) is not serialised to check it.

Invariants:
- a plan computes exactly what ``states_flow.visit_pass`` computes, with the same errors and
  causes (the same ``paths`` / ``templates`` functions raise them); anything a plan does not
  cover (any other field, type or query language) makes ``plan_for`` answer None and the state
  takes the ordinary path;
- plans are cached by the state object's identity (the cache entry holds the state, so its id
  cannot be reused while cached): definitions are parsed once and never mutated;
- the durable (Standard) path never uses plans: its events are built exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from lambdamaker.engines.workflows import paths, templates
from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError

# Fields a Pass plan understands; any other field (Assign, QueryLanguage, Output, ...) means
# the ordinary path.
_PASS_FIELDS = frozenset(
    {
        "Type",
        "Comment",
        "Next",
        "End",
        "InputPath",
        "Parameters",
        "Result",
        "ResultPath",
        "OutputPath",
    }
)
_ABSENT: Any = object()
MAX_PAYLOAD = 256 * 1024
_PREFIX_START = "An error occurred while executing the state"
_PREFIXED = frozenset({RUNTIME, QUERY_EVALUATION_ERROR})
Pending = tuple[str, bytes, int]  # a planned state's (name, encoded output, sequence)
_EMPTY: dict[str, Any] = {}


def _data_path(path: Any) -> bool:
    """A path read from the state's data only (its reader is compiled and valid)."""
    if not isinstance(path, str) or not path.startswith("$") or path.startswith("$$"):
        return False
    try:
        kind, _, _ = paths.compiled(path)
    except (ValueError, TypeError):
        return False
    return kind == "data"


def _data_template(template: Any) -> bool:
    """True when every ``.$`` binding at any depth is a plain data path."""
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not _data_path(value):
                    return False
            elif not _data_template(value):
                return False
        return True
    if isinstance(template, list):
        return all(_data_template(item) for item in template)
    return True


class PassPlan:
    """One JSONPath Pass state, compiled; ``apply(raw)`` is its output."""

    __slots__ = (
        "apply",
        "following",
        "grow_a",
        "grow_b",
        "input_path",
        "output_path",
        "render",
        "result",
        "result_path",
        "state",
    )

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.state = state
        self.following: str | None = None if state.get("End") else str(state["Next"])
        self.input_path: Any = state.get("InputPath", "$")
        self.output_path: Any = state.get("OutputPath", "$")
        self.result: Any = state.get("Result", _ABSENT)
        template = state.get("Parameters", _ABSENT)
        self.render: Callable[[Any], Any] | None = (
            None if template is _ABSENT else templates.data_renderer(template)
        )
        result_path = state.get("ResultPath", "$")
        self.result_path: tuple[str | int, ...] | str | None = (
            result_path
            if result_path is None or result_path == "$"
            else paths.reference_steps(result_path)
        )

        # The commonest shape (no InputPath/OutputPath/Result, ResultPath one name): one
        # closure with no branches taken per call.
        self.apply: Callable[[Any], Any] = self._general
        steps = self.result_path
        render = self.render
        if (
            render is not None
            and self.result is _ABSENT
            and self.input_path == "$"
            and self.output_path == "$"
            and isinstance(steps, tuple)
            and len(steps) == 1
            and isinstance(steps[0], str)
        ):
            self.apply = _single_name(render, steps[0], steps, state["ResultPath"])
        # ``len(orjson.dumps(output)) <= grow_a + grow_b * len(orjson.dumps(input))`` (a sub-
        # value's JSON is a substring of its container's): while that bound stays under the
        # payload limit the walk need not serialise the output to check it. -1: no bound.
        self.grow_a, self.grow_b = 0, -1
        generated = _generated(state, self._general)
        if generated is not None:
            self.apply, self.grow_a, self.grow_b = generated

    def _general(self, raw: Any) -> Any:
        data = raw
        input_path = self.input_path
        if input_path != "$":
            data = paths.select(input_path, raw, _EMPTY, _EMPTY, field="InputPath")
        render = self.render
        if render is not None:
            data = render(data)
        result = self.result
        if result is _ABSENT:
            result = data
        steps = self.result_path
        if steps is None:
            output = raw
        elif isinstance(steps, str) or not steps:
            output = result
        else:
            output = paths.write_steps(raw, steps, result, self.state["ResultPath"])
        output_path = self.output_path
        if output_path != "$":
            output = paths.select(output_path, output, _EMPTY, _EMPTY, field="OutputPath")
        return output


def _single_name(
    render: Callable[[Any], Any], name: str, steps: tuple[str | int, ...], path: str
) -> Callable[[Any], Any]:
    def run(raw: Any) -> Any:
        result = render(raw)
        if type(raw) is not dict:
            return paths.write_steps(raw, steps, result, path)  # its error, or a dict subclass
        output = dict(raw)
        output[name] = result
        return output

    return run


_SCALARS = (str, int, float, bool, type(None))


def _generated(
    state: Mapping[str, Any], general: Callable[[Any], Any]
) -> tuple[Callable[[Any], Any], int, int] | None:
    """For the commonest Pass (a flat ``Parameters`` of literals and ``$.name`` reads, its
    ``ResultPath`` ``$``, null or one name; no other data field): one generated function that
    does the dict work directly when the input is a dict holding every name read, and
    otherwise calls ``general`` (which words any error). Same values, same sharing: literals
    are the template's own objects, read values the input's. With it ``(a, b)``: the output's
    JSON is at most ``a + b * n`` bytes for an input of ``n`` bytes."""
    if any(field in state for field in ("InputPath", "OutputPath", "Result")):
        return None
    template = state.get("Parameters")
    if not isinstance(template, dict):
        return None
    result_path = state.get("ResultPath", "$")
    target: str | None = None
    if result_path is not None and result_path != "$":
        steps = paths.reference_steps(result_path)
        if len(steps) != 1 or not isinstance(steps[0], str):
            return None
        target = steps[0]
    namespace: dict[str, Any] = {"MISSING": paths.MISSING, "general": general}
    reads: list[str] = []
    items: list[str] = []
    # The result object's JSON: braces, commas, each key and colon, literals, and for each
    # read at most the whole input.
    fixed = 2 + max(0, len(template) - 1)
    whole = 0
    for index, (key, value) in enumerate(template.items()):
        out_key = key[:-2] if key.endswith(".$") else key
        fixed += len(orjson.dumps(out_key)) + 1
        if key.endswith(".$"):
            whole += 1
            if value == "$":
                items.append(f"{key[:-2]!r}: raw")
                continue
            name = value[2:] if isinstance(value, str) and value.startswith("$.") else None
            if name is None or paths.compiled(value)[0] != "data":
                return None
            if paths.reference_steps(value) != (name,):
                return None
            reads.append(
                f"        v{index} = raw.get({name!r}, MISSING)\n"
                f"        if v{index} is MISSING:\n            return general(raw)\n"
            )
            items.append(f"{key[:-2]!r}: v{index}")
        elif isinstance(value, _SCALARS):
            fixed += len(orjson.dumps(value))
            namespace[f"L{index}"] = value
            items.append(f"{key!r}: L{index}")
        else:
            return None
    result = "{" + ", ".join(items) + "}"
    if result_path is None:
        tail = f"        {result}\n        return raw\n"
        grow_a, grow_b = 0, 1
    elif target is None:
        tail = f"        return {result}\n"
        grow_a, grow_b = fixed, whole
    else:
        # The input's members plus ``,"target":`` and the result.
        grow_a, grow_b = len(orjson.dumps(target)) + 2 + fixed, 1 + whole
        tail = (
            f"        output = raw.copy()\n        output[{target!r}] = {result}\n"
            "        return output\n"
        )
    source = (
        "def apply(raw):\n    if type(raw) is dict:\n"
        + "".join(reads)
        + tail
        + ("    return general(raw)\n")
    )
    exec(compile(source, "<workflows.quick>", "exec"), namespace)  # our own generated text
    generated: Callable[[Any], Any] = namespace["apply"]
    return generated, grow_a, grow_b


def _compile_pass(state: Mapping[str, Any]) -> PassPlan | None:
    if not _PASS_FIELDS.issuperset(state):
        return None
    for field in ("InputPath", "OutputPath"):
        if field in state and state[field] is not None and not _data_path(state[field]):
            return None
    if state.get("InputPath", "$") is None or state.get("OutputPath", "$") is None:
        return None  # null paths give {}: rare, left to the ordinary path
    if "Parameters" in state and not _data_template(state["Parameters"]):
        return None
    result_path = state.get("ResultPath", "$")
    if result_path is not None and result_path != "$":
        try:
            paths.reference_steps(result_path)
        except (ValueError, TypeError):
            return None
    if not state.get("End") and not isinstance(state.get("Next"), str):
        return None
    return PassPlan(state)


_PLANS: dict[tuple[int, bool], tuple[Any, PassPlan | None]] = {}
_PLANS_MAX = 8192


def plan_for(state: Mapping[str, Any], jsonata: bool) -> PassPlan | None:
    """The state's plan, or None when it must take the ordinary path. ``jsonata``: the
    execution's default query language is JSONata (a state without its own
    ``QueryLanguage`` then is JSONata too)."""
    cached = _PLANS.get((id(state), jsonata))
    if cached is not None and cached[0] is state:
        return cached[1]
    plan = None
    if not jsonata and state.get("Type") == "Pass":
        plan = _compile_pass(state)
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[(id(state), jsonata)] = (state, plan)
    return plan


class Plans(dict[str, PassPlan]):
    """``state name -> plan`` of one ``States`` object (states without a plan are absent),
    and the runs of them ``quick_run`` fuses, by the name they start at (built when first
    asked for)."""

    __slots__ = ("chains",)

    def __init__(self) -> None:
        super().__init__()
        self.chains: dict[str, Any] = {}


_MACHINES: dict[tuple[int, bool], tuple[Any, Plans]] = {}


def plans_for(states: Mapping[str, Any], jsonata: bool) -> Plans:
    """The ``Plans`` of one ``States`` object; cached by the object's identity like
    ``plan_for``."""
    cached = _MACHINES.get((id(states), jsonata))
    if cached is not None and cached[0] is states:
        return cached[1]
    plans = Plans()
    for name, state in states.items():
        plan = plan_for(state, jsonata) if isinstance(state, Mapping) else None
        if plan is not None:
            plans[name] = plan
    if len(_MACHINES) >= _PLANS_MAX:
        _MACHINES.clear()
    _MACHINES[(id(states), jsonata)] = (states, plans)
    return plans


def prefixed(error: StatesError, name: str, entered_id: int) -> StatesError:
    """``error`` with AWS's "An error occurred while executing the state" prefix, where AWS
    writes one (States.Runtime, States.QueryEvaluationError); changed in place."""
    if error.error in _PREFIXED and not error.cause.startswith(_PREFIX_START):
        error.cause = (
            f"{_PREFIX_START} '{name}' (entered at the event id #{entered_id}). {error.cause}"
        )
    return error


def data_limit(name: str) -> StatesError:
    return StatesError(
        "States.DataLimitExceeded",
        f"The state/task '{name}' returned a result with a size exceeding the "
        f"maximum number of bytes service limit.",
    )

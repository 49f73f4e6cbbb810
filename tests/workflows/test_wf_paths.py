"""JSONPath reads, InputPath/OutputPath selection, ResultPath writes, path validation."""

from __future__ import annotations

import copy

import pytest

from lambdamaker.engines.workflows.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from lambdamaker.engines.workflows.paths import (
    PathError,
    apply_result_path,
    check_path,
    check_reference_path,
    normalized_path,
    read_field,
    read_path,
    select,
    to_json,
)

DATA = {
    "order": {"id": "o-1", "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 3}]},
    "my-key": "hyphen",
    "with space": 7,
    "price": 1.5,
    "count": 2,
    "nothing": None,
}
CONTEXT = {"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "State": {"Name": "S"}}
VARIABLES = {"total": 10, "cfg": {"levels": [5, 6]}}


def read(path: str) -> object:
    return read_path(path, DATA, CONTEXT, VARIABLES)


def test_root_path_returns_the_data_itself() -> None:
    assert read("$") is DATA


def test_dotted_path_reads_nested_fields_and_indexes() -> None:
    assert read("$.order.id") == "o-1"
    assert read("$.order.items[1].qty") == 3
    assert read("$.nothing") is None


def test_numbers_keep_their_type() -> None:
    assert type(read("$.price")) is float
    assert type(read("$.count")) is int


def test_bracket_and_hyphenated_names_are_definite() -> None:
    assert read("$['with space']") == 7
    assert read("$.my-key") == "hyphen"
    assert read("$['order']['items'][0]['sku']") == "a"


def test_negative_index_reads_from_the_end() -> None:
    assert read("$.order.items[-1].sku") == "b"


def test_context_object_paths_start_with_double_dollar() -> None:
    assert read("$$") is CONTEXT
    assert read("$$.Execution.Input.k") == 1
    assert read("$$.State.Name") == "S"


def test_variable_paths_start_with_the_variable_name() -> None:
    assert read("$total") == 10
    assert read("$cfg.levels[1]") == 6


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.order.items[*].sku", ["a", "b"]),
        ("$..sku", ["a", "b"]),
        ("$.order.items[?(@.qty > 2)].sku", ["b"]),
        ("$.order.items[0:1]", [{"sku": "a", "qty": 1}]),
        ("$.order.items[0,1].qty", [1, 3]),
        ("$.order.items[?(@.qty > 9)]", []),
    ],
)
def test_indefinite_paths_return_a_list_even_with_one_or_no_match(
    path: str, expected: object
) -> None:
    assert read(path) == expected


def test_indefinite_paths_work_on_variables_too() -> None:
    assert read("$cfg.levels[*]") == [5, 6]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("$.missing", "Invalid path '$.missing' : No results for path: $['missing']"),
        ("$.order.nope", "Invalid path '$.order.nope' : No results for path: $['order']['nope']"),
        (
            "$.order.items[5]",
            "Invalid path '$.order.items[5]' : No results for path: $['order']['items'][5]",
        ),
        (
            "$.order.id.deeper",
            "Invalid path '$.order.id.deeper' : No results for path: $['order']['id']['deeper']",
        ),
        ("$$.Map.Item", "Invalid path '$$.Map.Item' : No results for path: $['Map']['Item']"),
        ("$cfg.absent", "Invalid path '$cfg.absent' : No results for path: $['absent']"),
    ],
)
def test_a_definite_path_with_no_match_raises_aws_message(path: str, message: str) -> None:
    with pytest.raises(PathError) as info:
        read(path)
    assert str(info.value) == message
    assert info.value.path == path


def test_an_undefined_variable_is_a_path_error() -> None:
    with pytest.raises(PathError, match="'ghost' is not defined"):
        read("$ghost.x")


def test_invalid_syntax_is_a_path_error() -> None:
    with pytest.raises(PathError):
        read("$.order[")
    with pytest.raises(PathError):
        read("order")


def test_fast_path_and_full_parser_agree() -> None:
    # "$['order'].id" is plain; "$.order['id']" too; "$.order.*" goes through jsonpath-ng.
    assert read("$['order'].id") == read("$.order['id']") == "o-1"
    assert read("$.order.items[0].qty") == read("$.order.items[?(@.sku == 'a')].qty")[0]


def test_reads_through_non_containers_find_nothing() -> None:
    with pytest.raises(PathError):
        read_path("$.a[0]", {"a": "text"}, {}, {})
    with pytest.raises(PathError):
        read_path("$.a", [1, 2], {}, {})
    with pytest.raises(PathError):
        read_path("$[0]", {"0": 1}, {}, {})


def test_normalized_path_is_jaywayish_bracket_form() -> None:
    assert normalized_path("$.a.b[2]") == "$['a']['b'][2]"
    assert normalized_path("$$.Execution.Id") == "$['Execution']['Id']"
    assert normalized_path("$") == "$"


# -- select (InputPath / OutputPath / ItemsPath) ------------------------------------------------


def test_select_null_path_gives_an_empty_object() -> None:
    assert select(None, DATA, CONTEXT, VARIABLES, field="InputPath") == {}


def test_select_reads_data_context_and_variables() -> None:
    assert select("$.order.id", DATA, CONTEXT, VARIABLES, field="InputPath") == "o-1"
    assert select("$$.Execution.Input", DATA, CONTEXT, VARIABLES, field="InputPath") == {"k": 1}
    assert select("$cfg.levels", DATA, CONTEXT, VARIABLES, field="ItemsPath") == [5, 6]


def test_select_with_no_match_is_states_runtime_with_aws_cause() -> None:
    with pytest.raises(StatesError) as info:
        select("$.NoSuchOutputPath", {"int-literal": 0}, CONTEXT, VARIABLES, field="OutputPath")
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
    )


def test_read_field_names_the_field_and_the_input() -> None:
    assert read_field("$.order.id", DATA, CONTEXT, VARIABLES, field="ErrorPath") == "o-1"
    with pytest.raises(StatesError) as info:
        read_field("$.NoCause", {"Error": "e"}, CONTEXT, VARIABLES, field="CausePath")
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.NoCause' specified for the field 'CausePath' "
        'could not be found in the input \'{"Error":"e"}\''
    )


# -- ResultPath ---------------------------------------------------------------------------------


def test_result_path_dollar_replaces_the_input() -> None:
    assert apply_result_path({"a": 1}, "result", "$") == "result"


def test_result_path_null_keeps_the_input() -> None:
    state_input = {"a": 1}
    assert apply_result_path(state_input, "result", None) == {"a": 1}


def test_result_path_adds_a_field() -> None:
    assert apply_result_path({"a": 1}, {"r": True}, "$.out") == {"a": 1, "out": {"r": True}}


def test_result_path_replaces_an_existing_field() -> None:
    assert apply_result_path({"a": 1, "out": 0}, 5, "$.out") == {"a": 1, "out": 5}


def test_result_path_creates_missing_objects_along_the_path() -> None:
    assert apply_result_path({"a": 1}, 5, "$.x.y.z") == {"a": 1, "x": {"y": {"z": 5}}}
    assert apply_result_path({"x": None}, 5, "$.x.y") == {"x": {"y": 5}}


def test_result_path_writes_into_an_existing_array_slot() -> None:
    assert apply_result_path({"l": [1, 2, {"k": 0}]}, 9, "$.l[1]") == {"l": [1, 9, {"k": 0}]}
    assert apply_result_path({"l": [1, 2, {"k": 0}]}, 9, "$.l[2].k") == {"l": [1, 2, {"k": 9}]}


def test_result_path_accepts_bracket_notation() -> None:
    assert apply_result_path({}, 1, "$['a b']['c']") == {"a b": {"c": 1}}


def test_result_path_never_mutates_the_input() -> None:
    state_input = {"a": {"b": [1, {"c": 2}]}, "keep": {"x": 1}}
    before = copy.deepcopy(state_input)
    out = apply_result_path(state_input, "new", "$.a.b[1].c")
    assert state_input == before
    assert out == {"a": {"b": [1, {"c": "new"}]}, "keep": {"x": 1}}
    assert out["keep"] is state_input["keep"]  # untouched branches are shared, not copied


@pytest.mark.parametrize(
    ("state_input", "path"),
    [
        ("a string", "$.out"),
        ([1, 2], "$.out"),
        ({"a": "text"}, "$.a.b"),
        ({"a": 3}, "$.a[0]"),
        ({"l": [1]}, "$.l[3]"),
        ({"l": {"k": 1}}, "$.l[0]"),
    ],
)
def test_result_path_that_cannot_apply_is_result_path_match_failure(
    state_input: object, path: str
) -> None:
    with pytest.raises(StatesError) as info:
        apply_result_path(state_input, 1, path)
    assert info.value.error == RESULT_PATH_MATCH_FAILURE
    assert info.value.cause == (
        f"Unable to apply ReplacementPath '{path}' to input '{to_json(state_input)}'"
    )


def test_result_path_that_is_not_a_reference_path_fails_at_run_time() -> None:
    with pytest.raises(StatesError) as info:
        apply_result_path({}, 1, "$.a[*]")
    assert info.value.error == RESULT_PATH_MATCH_FAILURE


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["$", "$.a", "$$.Execution.Id", "$var.x", "$.a[*].b", "$..b", "$.a[?(@.x == 1)]", "$['a b']"],
)
def test_check_path_accepts_aws_jsonpaths(path: str) -> None:
    check_path(path)


@pytest.mark.parametrize("path", ["a.b", "", "$.a[", "$.a..", "$.[", "$.a b"])
def test_check_path_rejects_invalid_paths(path: str) -> None:
    with pytest.raises(ValueError):
        check_path(path)


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b[0]", "$['a b'].c", "$.a[2]['x']"])
def test_check_reference_path_accepts_single_node_paths(path: str) -> None:
    check_reference_path(path)


@pytest.mark.parametrize(
    "path", ["$.a[*]", "$..a", "$.a[?(@.x)]", "$.a[0:2]", "$$.Execution", "$var.x", "a", "$.a[-1]"]
)
def test_check_reference_path_rejects_paths_that_select_many_or_other_roots(path: str) -> None:
    with pytest.raises(ValueError):
        check_reference_path(path)


def test_check_messages_are_short_details() -> None:
    with pytest.raises(ValueError, match="didn't start with '\\$'"):
        check_path("a.b")
    with pytest.raises(ValueError, match="Invalid JSONPath syntax"):
        check_path("$.a[")
    with pytest.raises(ValueError, match="invalid step"):
        check_reference_path("$.a[*]")
    with pytest.raises(ValueError, match="Reference path didn't start"):
        check_reference_path("a")

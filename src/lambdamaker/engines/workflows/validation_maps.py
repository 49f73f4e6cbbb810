"""Map and Wait state checks: items, readers, batching, writers, tolerance, concurrency, label;
the Wait state's one-of-four duration fields."""

from __future__ import annotations

import re
from typing import Any

from lambdamaker.engines.workflows import validation_rules as rules
from lambdamaker.engines.workflows.validation_core import (
    INVALID_LABEL,
    JSONATA,
    Collector,
    child,
    is_expression,
    is_number,
)
from lambdamaker.engines.workflows.validation_fields import (
    ITEM_BATCHER,
    ITEM_READER,
    PROCESSOR_CONFIG,
    READER_CONFIG,
    RESULT_WRITER,
)

_WAIT_FIELDS = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_MAX = 99999999
_READER = re.compile(r"arn:[a-z0-9-]+:states:::s3:(getObject|listObjectsV2)")
_MAX_LABEL = 40
_LABEL_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def _number_field(
    c: Collector,
    state: dict[str, Any],
    field: str,
    location: str,
    language: str,
    maximum: float | None,
) -> None:
    """A non-negative number field that JSONata mode may give as an expression; its *Path form."""
    path_field = f"{field}Path"
    if field in state and path_field in state:
        c.schema(f"Only one of the fields '{field}' or '{path_field}' may be set", location)
    if field in state:
        value, where = state[field], child(location, field)
        if language == JSONATA and is_expression(value):
            rules.expression(c, value, where)
        elif field == "ToleratedFailurePercentage":
            if not is_number(value):
                c.schema("Expected value of type [NUMBER]", where)
            elif not 0 <= value <= (maximum or 100):
                c.schema("Value must be between 0 and 100", where)
        else:
            c.integer(value, where, 0, int(maximum) if maximum is not None else None)
    if path_field in state and language != JSONATA:
        rules.path(c, state[path_field], path_field, child(location, path_field))


def check_wait(c: Collector, state: dict[str, Any], location: str, language: str) -> None:
    present = [field for field in _WAIT_FIELDS if field in state]
    if len(present) != 1:
        c.schema(
            f"A Wait state must have exactly one of the fields [{', '.join(_WAIT_FIELDS)}]",
            location,
        )
    if "Seconds" in state:
        value, where = state["Seconds"], child(location, "Seconds")
        if language == JSONATA and is_expression(value):
            rules.expression(c, value, where)
        else:
            c.integer(value, where, 0, _MAX)
    if "Timestamp" in state:
        value, where = state["Timestamp"], child(location, "Timestamp")
        if language == JSONATA and is_expression(value):
            rules.expression(c, value, where)
        elif c.expect(value, str, where) and not _TIMESTAMP.fullmatch(value):
            c.schema(
                "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp", where
            )
    for field in ("SecondsPath", "TimestampPath"):
        if field in state and language != JSONATA:
            rules.path(c, state[field], field, child(location, field))


def _processor_config(c: Collector, state: dict[str, Any], location: str) -> None:
    processor = state.get("ItemProcessor")
    if not isinstance(processor, dict) or "ProcessorConfig" not in processor:
        return
    where = child(child(location, "ItemProcessor"), "ProcessorConfig")
    config = processor["ProcessorConfig"]
    if not c.expect(config, dict, where):
        return
    c.fields(config, PROCESSOR_CONFIG, where)
    mode = config.get("Mode", "INLINE")
    if "Mode" in config:
        c.one_of(mode, ("INLINE", "DISTRIBUTED"), child(where, "Mode"))
    if "ExecutionType" in config:
        if mode == "INLINE":
            c.not_supported("ExecutionType", where)
        else:
            c.one_of(
                config["ExecutionType"], ("STANDARD", "EXPRESS"), child(where, "ExecutionType")
            )
    elif mode == "DISTRIBUTED":
        c.required(["ExecutionType"], where)


def _payload(c: Collector, obj: dict[str, Any], location: str, language: str) -> None:
    """The Parameters (JSONPath) or Arguments (JSONata) of an ItemReader / ResultWriter."""
    own, other = ("Arguments", "Parameters") if language == JSONATA else ("Parameters", "Arguments")
    if other in obj:
        c.schema(rules.language_message(language, other), location)
    if own in obj:
        rules.template_object(c, obj[own], child(location, own), language)


def _item_reader(c: Collector, reader: Any, location: str, language: str) -> None:
    if not c.expect(reader, dict, location):
        return
    c.fields(reader, ITEM_READER, location)
    if "Resource" not in reader:
        c.required(["Resource"], location)
    elif c.expect(reader["Resource"], str, child(location, "Resource")) and not _READER.fullmatch(
        reader["Resource"]
    ):
        c.schema(
            "The field 'Resource' does not match any of the allowed values. Examples: "
            "[arn:<partition>:states:::s3:getObject, arn:<partition>:states:::s3:listObjectsV2]",
            child(location, "Resource"),
        )
    _payload(c, reader, location, language)
    config = reader.get("ReaderConfig")
    where = child(location, "ReaderConfig")
    if "ReaderConfig" not in reader or not c.expect(config, dict, where):
        return
    c.fields(config, READER_CONFIG, where)
    if "InputType" in config:
        c.one_of(
            config["InputType"],
            ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"),
            child(where, "InputType"),
        )
    if "CSVHeaderLocation" in config:
        c.one_of(
            config["CSVHeaderLocation"], ("FIRST_ROW", "GIVEN"), child(where, "CSVHeaderLocation")
        )
        if config["CSVHeaderLocation"] == "GIVEN" and "CSVHeaders" not in config:
            c.required(["CSVHeaders"], where)
    if "MaxItems" in config:
        c.integer(config["MaxItems"], child(where, "MaxItems"), 0, 100000000)


def _item_batcher(c: Collector, batcher: Any, location: str, language: str) -> None:
    if not c.expect(batcher, dict, location):
        return
    c.fields(batcher, ITEM_BATCHER, location)
    for field in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        _number_field(c, batcher, field, location, language, None)
    if "BatchInput" in batcher:
        rules.template_object(c, batcher["BatchInput"], child(location, "BatchInput"), language)


def _result_writer(c: Collector, writer: Any, location: str, language: str) -> None:
    if not c.expect(writer, dict, location):
        return
    c.fields(writer, RESULT_WRITER, location)
    if not writer:
        c.schema("The field 'ResultWriter' must specify WriterConfig or Resource", location)
    if "Resource" in writer:
        c.expect(writer["Resource"], str, child(location, "Resource"))
    if "WriterConfig" in writer:
        c.expect(writer["WriterConfig"], dict, child(location, "WriterConfig"))
    _payload(c, writer, location, language)


def check_map(c: Collector, state: dict[str, Any], location: str, language: str) -> None:
    has_processor, has_iterator = "ItemProcessor" in state, "Iterator" in state
    if not has_processor and not has_iterator:
        c.required(["ItemProcessor"], location)
    elif has_processor and has_iterator:
        c.not_supported("Iterator", location)
    _processor_config(c, state, location)
    if "ItemsPath" in state and language != JSONATA:
        rules.path(c, state["ItemsPath"], "ItemsPath", child(location, "ItemsPath"))
    if "Items" in state and language == JSONATA:
        items, where = state["Items"], child(location, "Items")
        if isinstance(items, str) and is_expression(items):
            rules.expression(c, items, where)
        elif c.expect(items, list, where):
            rules.jsonata_value(c, items, where)
    for field in ("ItemSelector", "Parameters"):
        if field in state and (field == "ItemSelector" or language != JSONATA):
            rules.template_object(c, state[field], child(location, field), language)
    _number_field(c, state, "MaxConcurrency", location, language, None)
    _number_field(c, state, "ToleratedFailureCount", location, language, None)
    _number_field(c, state, "ToleratedFailurePercentage", location, language, 100)
    if "Label" in state:
        label, where = state["Label"], child(location, "Label")
        if c.expect(label, str, where) and (
            not label or len(label) > _MAX_LABEL or _LABEL_FORBIDDEN.search(label)
        ):
            c.error(INVALID_LABEL, f"Invalid label name: {label}", where)
    if "ItemReader" in state:
        _item_reader(c, state["ItemReader"], child(location, "ItemReader"), language)
    if "ItemBatcher" in state:
        _item_batcher(c, state["ItemBatcher"], child(location, "ItemBatcher"), language)
    if "ResultWriter" in state:
        _result_writer(c, state["ResultWriter"], child(location, "ResultWriter"), language)

"""Map's item sources: the ItemReader (S3 objects and listings) and the ItemBatcher.

``read_items(visit, effective)`` renders the reader's ``Parameters`` (JSONPath, against the
effective input) or ``Arguments`` (JSONata) into ``Bucket`` / ``Key`` / ``Prefix`` and reads
through ``ExecutionServices.items`` (an ``ItemStore``):

- ``arn:aws:states:::s3:getObject`` with ``ReaderConfig.InputType``:
  ``JSON`` (the object is a JSON array), ``JSONL`` (one JSON value a line), ``CSV`` (one object
  a row, keys from the first row or ``CSVHeaders``, values kept as strings, missing trailing
  cells ``""``, extra cells dropped), ``MANIFEST`` (an S3 Inventory ``manifest.json``: the rows
  of the CSV files it lists, keyed by its ``fileSchema``);
- ``arn:aws:states:::s3:listObjectsV2``: one item per object under ``Prefix``, shaped as AWS
  hands it to a child execution (``Etag``, ``Key``, ``LastModified`` in epoch seconds,
  ``Size``, ``StorageClass``).

``MaxItems`` / ``MaxItemsPath`` cap the items (0: all). A source that is not what its
InputType says fails with ``States.ItemReaderFailed`` and AWS's cause; the store's own
``StatesError`` (missing bucket or key) passes through unchanged.

``batch(visit, effective, units)`` groups iteration inputs for ``ItemBatcher``: at most
``MaxItemsPerBatch`` items and ``MaxInputBytesPerBatch`` bytes (serialized) per batch, each
batch ``{"Items": [...]}`` plus ``"BatchInput"`` when the batcher has one.

Invariants: reading has no side effect, so a replay after a crash reads S3 again and gets the
same items as long as the objects are unchanged; nothing here emits an event.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows import dataflow, jsonata_eval, number_fields, templates
from lambdamaker.engines.workflows.errors import ITEM_READER_FAILED, StatesError

if TYPE_CHECKING:
    from lambdamaker.engines.workflows.interpreter import Visit

GET_OBJECT = "s3:getObject"
LIST_OBJECTS = "s3:listObjectsV2"
MAX_ITEMS_LIMIT = 100_000_000
NON_ITERABLE = "Attempting to map over non-iterable node."
DUPLICATE_HEADERS = "CSV headers cannot contain duplicates."
_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _reader_failed(cause: str) -> StatesError:
    return StatesError(ITEM_READER_FAILED, cause)


def _payload(visit: Visit, reader: dict[str, Any], effective: Any) -> dict[str, Any]:
    if visit.jsonata:
        template = reader.get("Arguments", {})
        binding = dataflow.states_binding(visit.raw, visit.context)
        rendered = jsonata_eval.render(template, binding, visit.scope, field="Arguments")
    else:
        template = reader.get("Parameters", {})
        rendered = templates.render(
            template, effective, visit.context, visit.scope, field="Parameters"
        )
    if not isinstance(rendered, dict):
        raise _reader_failed("The ItemReader parameters must be a JSON object.")
    return rendered


def _max_items(visit: Visit, config: dict[str, Any], effective: Any) -> int:
    """``MaxItems`` (literal or JSONata) or ``MaxItemsPath``; 0 means no limit."""
    value = number_fields.resolve(visit, config, "MaxItems", effective, number_fields.COUNT)
    return 0 if value is None else min(int(value), MAX_ITEMS_LIMIT)


def _text(body: bytes, key: str) -> str:
    if key.endswith(".gz") or body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            raise _reader_failed(f"The object '{key}' is not a valid gzip file.") from None
    return body.decode("utf-8-sig", errors="replace")


def _json_items(text: str) -> list[Any]:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _reader_failed(NON_ITERABLE) from None
    if not isinstance(document, list):
        raise _reader_failed(NON_ITERABLE)
    return document


def _jsonl_items(text: str, limit: int) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise _reader_failed(f"The JSONL line {number} is not valid JSON.") from None
        if limit and len(items) >= limit:
            break
    return items


def _rows(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _csv_items(
    rows: Iterable[list[str]], headers: list[str] | None, limit: int, out: list[Any]
) -> None:
    """Append one object per row to ``out``; ``headers`` None: the first row holds them."""
    iterator = iter(rows)
    if headers is None:
        headers = next(iterator, None)
        if headers is None:
            return
    if len(set(headers)) < len(headers):
        raise _reader_failed(DUPLICATE_HEADERS)
    width = len(headers)
    for row in iterator:
        if limit and len(out) >= limit:
            return
        cells = row + [""] * (width - len(row)) if len(row) < width else row
        out.append({header: cells[index] for index, header in enumerate(headers)})


def _csv_config(config: dict[str, Any]) -> tuple[list[str] | None, str]:
    delimiter = _DELIMITERS.get(config.get("CSVDelimiter", "COMMA"), ",")
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = config.get("CSVHeaders")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise _reader_failed("CSVHeaders must be an array of strings.")
        return list(headers), delimiter
    return None, delimiter


async def _manifest_items(visit: Visit, body: bytes, key: str, limit: int) -> list[Any]:
    """An S3 Inventory manifest: the rows of every CSV file it lists, in its order."""
    store = visit.run.services.items
    assert store is not None
    try:
        manifest = orjson.loads(_text(body, key))
        files = manifest["files"]
        schema = [name.strip() for name in str(manifest["fileSchema"]).split(",")]
        destination = str(manifest.get("destinationBucket", ""))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise _reader_failed(f"The object '{key}' is not a valid S3 Inventory manifest.") from None
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise _reader_failed("Only CSV S3 Inventory manifests are supported.")
    bucket = destination.rsplit(":", 1)[-1]
    items: list[Any] = []
    for entry in files:
        if limit and len(items) >= limit:
            break
        file_key = entry["key"] if isinstance(entry, dict) else str(entry)
        data = await store.get_object(bucket, file_key)
        _csv_items(_rows(_text(data, file_key), ","), schema, limit, items)
    return items


def _epoch_seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return value


def _listing_item(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "Etag": entry.get("ETag", entry.get("Etag", "")),
        "Key": entry["Key"],
        "LastModified": _epoch_seconds(entry.get("LastModified")),
        "Size": entry.get("Size", 0),
        "StorageClass": entry.get("StorageClass", "STANDARD"),
    }


async def read_items(visit: Visit, effective: Any) -> list[Any]:
    """The items the state's ItemReader yields (see the module docstring)."""
    reader = visit.state["ItemReader"]
    store = visit.run.services.items
    if store is None:
        raise _reader_failed("No S3 access is configured for ItemReader.")
    resource = str(reader.get("Resource", ""))
    config = reader.get("ReaderConfig") or {}
    params = _payload(visit, reader, effective)
    limit = _max_items(visit, config, effective)
    bucket = str(params.get("Bucket", ""))
    if resource.endswith(LIST_OBJECTS):
        listing = await store.list_objects(bucket, str(params.get("Prefix", "")))
        items = [_listing_item(entry) for entry in listing]
        return items[:limit] if limit else items
    if not resource.endswith(GET_OBJECT):
        raise _reader_failed(f"Unsupported ItemReader resource: {resource}")
    key = str(params.get("Key", ""))
    body = await store.get_object(bucket, key)
    kind = config.get("InputType", "JSON")
    if kind == "JSON":
        items = _json_items(_text(body, key))
    elif kind == "JSONL":
        items = _jsonl_items(_text(body, key), limit)
    elif kind == "CSV":
        headers, delimiter = _csv_config(config)
        items = []
        _csv_items(_rows(_text(body, key), delimiter), headers, limit, items)
    elif kind == "MANIFEST":
        items = await _manifest_items(visit, body, key, limit)
    else:
        raise _reader_failed(f"The ItemReader InputType '{kind}' is not supported.")
    return items[:limit] if limit else items


def _batch_limit(visit: Visit, batcher: dict[str, Any], field: str, effective: Any) -> int:
    """``MaxItemsPerBatch`` / ``MaxInputBytesPerBatch`` (or ``*Path``); 0 means no limit."""
    value = number_fields.resolve(visit, batcher, field, effective, number_fields.COUNT)
    return 0 if value is None else int(value)


def batch(visit: Visit, effective: Any, inputs: list[Any]) -> list[dict[str, Any]]:
    """Group iteration inputs into ItemBatcher batches (``{"BatchInput"?, "Items"}``)."""
    batcher = visit.state["ItemBatcher"]
    size = _batch_limit(visit, batcher, "MaxItemsPerBatch", effective)
    max_bytes = _batch_limit(visit, batcher, "MaxInputBytesPerBatch", effective)
    has_input = "BatchInput" in batcher
    batch_input: Any = None
    if has_input:
        if visit.jsonata:
            binding = dataflow.states_binding(visit.raw, visit.context)
            batch_input = jsonata_eval.render(
                batcher["BatchInput"], binding, visit.scope, field="BatchInput"
            )
        else:
            batch_input = templates.render(
                batcher["BatchInput"], effective, visit.context, visit.scope, field="BatchInput"
            )
    # Bytes of the batch envelope: {"BatchInput":...,"Items":[]} plus one comma per item.
    base = len(
        orjson.dumps({"BatchInput": batch_input, "Items": []} if has_input else {"Items": []})
    )
    out: list[dict[str, Any]] = []
    current: list[Any] = []
    used = base
    for item in inputs:
        cost = len(orjson.dumps(item)) + (1 if current else 0)
        full = (size and len(current) >= size) or (
            max_bytes and current and used + cost > max_bytes
        )
        if full:
            out.append(_envelope(batch_input, has_input, current))
            current, used = [], base
            cost = len(orjson.dumps(item))
        current.append(item)
        used += cost
    if current:
        out.append(_envelope(batch_input, has_input, current))
    return out


def _envelope(batch_input: Any, has_input: bool, items: list[Any]) -> dict[str, Any]:
    if has_input:
        return {"BatchInput": batch_input, "Items": items}
    return {"Items": items}

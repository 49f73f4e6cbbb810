"""Map's item sources driven in-process: ItemReader over S3 objects (JSON, JSONL, CSV, S3
Inventory manifests) and listings, MaxItems, and ItemBatcher's batches."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry
from lambdamaker.testing import FakeClock

GET = "arn:aws:states:::s3:getObject"
LIST = "arn:aws:states:::s3:listObjectsV2"


class DictStore:
    """An ItemStore over a dict of (bucket, key) -> body."""

    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects = dict(objects or {})

    async def get_object(self, bucket: str, key: str) -> bytes:
        if (bucket, key) not in self.objects:
            raise StatesError("S3.NoSuchKey", "The specified key does not exist.")
        return self.objects[(bucket, key)]

    async def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        return [
            {
                "Key": key,
                "Size": len(body),
                "ETag": '"etag-' + key + '"',
                "LastModified": datetime(2024, 1, 2, tzinfo=UTC),
                "StorageClass": "STANDARD",
            }
            for (name, key), body in sorted(self.objects.items())
            if name == bucket and key.startswith(prefix)
        ]

    async def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = body


def spec(definition: dict[str, Any], data: Any) -> ExecutionSpec:
    return ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:run",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        name="run",
        definition=definition,
        input=data,
        start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def execute(
    definition: dict[str, Any], data: Any, store: DictStore | None
) -> tuple[Outcome, MemoryJournal]:
    clock = FakeClock(1_700_000_000)
    journal = MemoryJournal(clock)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    services = ExecutionServices(
        journal, IntegrationRegistry(), clock=clock, sleep=sleep, items=store
    )
    return asyncio.run(run_execution(spec(definition, data), services)), journal


def reader_map(reader: dict[str, Any], **extra: Any) -> dict[str, Any]:
    state = {
        "Type": "Map",
        "ItemReader": reader,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    state.update(extra)
    return {"StartAt": "M", "States": {"M": state}}


def get_object(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resource": GET,
        "ReaderConfig": config,
        "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
    }


def run_reader(
    body: bytes, config: dict[str, Any], data: dict[str, Any] | None = None, **extra: Any
) -> tuple[Outcome, MemoryJournal]:
    store = DictStore({("b", "f"): body})
    return execute(
        reader_map(get_object(config), **extra), {"bucket": "b", "key": "f", **(data or {})}, store
    )


CSV = b"a,b,c\n1,2,3\n4,,\n ,x\n"


def test_json_object_array_is_the_items() -> None:
    outcome, journal = run_reader(b'[{"v": 1}, [2], "three"]', {"InputType": "JSON"})
    assert (outcome.status, outcome.output) == ("SUCCEEDED", [{"v": 1}, [2], "three"])
    started = next(e for e in journal.events if e.type == "MapStateStarted")
    assert started.details == {"length": 0}


def test_json_object_that_is_not_an_array_fails_the_reader() -> None:
    outcome, journal = run_reader(b'{"v": 1}', {"InputType": "JSON"})
    assert (outcome.status, outcome.error, outcome.cause) == (
        "FAILED",
        "States.ItemReaderFailed",
        "Attempting to map over non-iterable node.",
    )
    failed = next(e for e in journal.events if e.type == "MapRunFailed")
    assert failed.details["error"] == "States.ItemReaderFailed"
    assert [e.type for e in journal.events][-3:] == [
        "MapRunFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]


def test_jsonl_reads_one_value_a_line() -> None:
    outcome, _ = run_reader(b'{"a": 1}\n\n[2]\n"x"\n', {"InputType": "JSONL"})
    assert outcome.output == [{"a": 1}, [2], "x"]


def test_csv_first_row_headers_keep_values_as_strings_and_pad_short_rows() -> None:
    outcome, _ = run_reader(CSV, {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})
    assert outcome.output == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "4", "b": "", "c": ""},
        {"a": " ", "b": "x", "c": ""},
    ]


def test_csv_given_headers_read_every_row_and_drop_extra_cells() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H"]}
    outcome, _ = run_reader(CSV, config)
    assert outcome.output == [{"H": "a"}, {"H": "1"}, {"H": "4"}, {"H": " "}]


def test_csv_duplicate_headers_fail_the_reader() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H", "H"]}
    outcome, _ = run_reader(CSV, config)
    assert (outcome.error, outcome.cause) == (
        "States.ItemReaderFailed",
        "CSV headers cannot contain duplicates.",
    )


def test_csv_delimiter_and_max_items() -> None:
    body = b"k|v\n1|a\n2|b\n3|c\n"
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "PIPE"}
    outcome, _ = run_reader(body, {**config, "MaxItems": 2})
    assert outcome.output == [{"k": "1", "v": "a"}, {"k": "2", "v": "b"}]
    outcome, _ = run_reader(body, {**config, "MaxItems": 0})
    assert len(outcome.output) == 3


def test_max_items_path_reads_the_effective_input_and_rejects_non_integers() -> None:
    config = {"InputType": "JSON", "MaxItemsPath": "$.max"}
    outcome, _ = run_reader(b"[1, 2, 3]", config, {"max": 1})
    assert outcome.output == [1]
    outcome, _ = run_reader(b"[1, 2, 3]", config, {"max": "x"})
    assert outcome.error == "States.Runtime"
    assert 'The MaxItemsPath field refers to value "x" which is not a valid integer' in (
        outcome.cause or ""
    )


def test_missing_object_fails_with_the_store_error() -> None:
    definition = reader_map(get_object({"InputType": "JSON"}))
    outcome, _ = execute(definition, {"bucket": "b", "key": "nope"}, DictStore())
    assert (outcome.status, outcome.error) == ("FAILED", "S3.NoSuchKey")


def test_no_store_fails_the_reader() -> None:
    definition = reader_map(get_object({"InputType": "JSON"}))
    outcome, _ = execute(definition, {"bucket": "b", "key": "f"}, None)
    assert outcome.error == "States.ItemReaderFailed"


def test_items_path_is_not_used_with_an_item_reader() -> None:
    outcome, _ = run_reader(b"[1]", {"InputType": "JSON"}, ItemsPath="$.missing")
    assert outcome.output == [1]


def test_list_objects_items_are_object_summaries_under_the_prefix() -> None:
    store = DictStore({("b", "in/1.txt"): b"one", ("b", "in/2.txt"): b"two!", ("b", "out"): b""})
    reader = {"Resource": LIST, "Parameters": {"Bucket": "b", "Prefix": "in/"}}
    outcome, _ = execute(reader_map(reader), {}, store)
    assert outcome.output == [
        {
            "Etag": '"etag-in/1.txt"',
            "Key": "in/1.txt",
            "LastModified": 1704153600,
            "Size": 3,
            "StorageClass": "STANDARD",
        },
        {
            "Etag": '"etag-in/2.txt"',
            "Key": "in/2.txt",
            "LastModified": 1704153600,
            "Size": 4,
            "StorageClass": "STANDARD",
        },
    ]


def test_manifest_reads_the_inventory_csv_files_it_lists() -> None:
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inv",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "data/1.csv.gz"}, {"key": "data/2.csv"}],
    }
    store = DictStore(
        {
            ("inv", "manifest.json"): orjson.dumps(manifest),
            ("inv", "data/1.csv.gz"): gzip.compress(b'"src","a.txt","1"\n'),
            ("inv", "data/2.csv"): b'"src","b.txt","2"\n',
        }
    )
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": "inv", "Key": "manifest.json"},
    }
    outcome, _ = execute(reader_map(reader), {}, store)
    assert outcome.output == [
        {"Bucket": "src", "Key": "a.txt", "Size": "1"},
        {"Bucket": "src", "Key": "b.txt", "Size": "2"},
    ]


def test_jsonata_reader_arguments_and_max_items_expression() -> None:
    reader = {
        "Resource": GET,
        "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
        "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "f"},
    }
    definition = reader_map(reader)
    definition["QueryLanguage"] = "JSONata"
    outcome, _ = execute(definition, {"bucket": "b", "max": 2}, DictStore({("b", "f"): b"[1,2,3]"}))
    assert outcome.output == [1, 2]


def batch_map(batcher: dict[str, Any], **extra: Any) -> dict[str, Any]:
    state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemBatcher": batcher,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    state.update(extra)
    return {"StartAt": "M", "States": {"M": state}}


def test_batcher_groups_items_and_puts_batch_input_under_its_own_key() -> None:
    batcher = {"MaxItemsPerBatch": 2, "BatchInput": {"tag.$": "$.tag"}}
    outcome, journal = execute(batch_map(batcher), {"items": [1, 2, 3], "tag": "t"}, None)
    assert outcome.output == [
        {"BatchInput": {"tag": "t"}, "Items": [1, 2]},
        {"BatchInput": {"tag": "t"}, "Items": [3]},
    ]
    assert [e.type for e in journal.events].count("MapIterationStarted") == 2


def test_batcher_without_batch_input_and_with_item_selector() -> None:
    batcher = {"MaxItemsPerBatchPath": "$.size"}
    selector = {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}
    outcome, _ = execute(
        batch_map(batcher, ItemSelector=selector), {"items": ["a", "b", "c"], "size": 3}, None
    )
    assert outcome.output == [
        {"Items": [{"v": "a", "i": 0}, {"v": "b", "i": 1}, {"v": "c", "i": 2}]}
    ]


def test_batcher_max_input_bytes_splits_batches_by_serialized_size() -> None:
    items = ["x" * 10] * 4  # each item is 12 bytes as JSON
    outcome, _ = execute(batch_map({"MaxInputBytesPerBatch": 40}), {"items": items}, None)
    # {"Items":[]} is 12 bytes; two items add 12 + 13 -> 37 <= 40, a third would exceed.
    assert [len(batch["Items"]) for batch in outcome.output] == [2, 2]

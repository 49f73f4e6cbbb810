"""Map's result sink: the ResultWriter of a Distributed Map, and its WriterConfig formats.

Without a ResultWriter the Map's result is the children's outputs in item order (a failed,
tolerated child contributes ``{"Error", "Cause"}``). With one:

- ``WriterConfig`` only (a preview, nothing written): the result is the children's results
  after ``Transformation`` (``COMPACT``: outputs; ``FLATTEN``: outputs with array outputs
  spliced in; ``NONE``: the full child execution records);
- ``Resource: arn:aws:states:::s3:putObject`` with ``Bucket`` / ``Prefix``: the records
  (``Transformation`` default ``NONE``) are written under ``<Prefix>/<map run uuid>/`` as
  ``SUCCEEDED_0.json``, ``FAILED_0.json`` and ``PENDING_0.json`` (only the non-empty ones;
  ``.jsonl`` with ``OutputType: JSONL``), then ``manifest.json`` listing them
  (``DestinationBucket``, ``MapRunArn``, ``ResultFiles`` by status with ``Key`` and ``Size``);
  the Map's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`` with the
  manifest's key.

A failed write fails the Map with ``States.ResultWriterFailed`` (the store's cause). Writing
is idempotent (same keys on a replay), so a crash between the writes and the MapStateExited
event only rewrites the same objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows import dataflow, jsonata_eval, templates
from lambdamaker.engines.workflows.errors import RESULT_WRITER_FAILED, StatesError
from lambdamaker.engines.workflows.map_runs import FAILED, PENDING, SUCCEEDED, Child, MapRun

if TYPE_CHECKING:
    from lambdamaker.engines.workflows.interpreter import Visit

PUT_OBJECT = "s3:putObject"
_STATUSES = (FAILED, PENDING, SUCCEEDED)


def _date(moment: float | None) -> str | None:
    if moment is None:
        return None
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def record(run: MapRun, child: Child) -> dict[str, Any]:
    """A child execution as the ResultWriter reports it (Transformation NONE)."""
    name = run.child_name(child.index)
    out: dict[str, Any] = {
        "ExecutionArn": run.child_execution_prefix + name,
        "Input": _dumps(child.input),
        "InputDetails": {"Included": True},
        "Name": name,
    }
    if child.status == SUCCEEDED:
        out["Output"] = _dumps(child.output)
        out["OutputDetails"] = {"Included": True}
    elif child.status == FAILED:
        if child.error:
            out["Error"] = child.error
        if child.cause:
            out["Cause"] = child.cause
    out["RedriveCount"] = 0
    out["StateMachineArn"] = run.child_machine_arn
    out["Status"] = child.status if child.status in _STATUSES else PENDING
    start, stop = _date(child.start), _date(child.stop)
    if start is not None:
        out["StartDate"] = start
    if stop is not None and child.status != PENDING:
        out["StopDate"] = stop
    return out


def _value(child: Child) -> Any:
    if child.status == SUCCEEDED:
        return child.output
    return {"Error": child.error, "Cause": child.cause}


def transformed(run: MapRun, children: list[Child], transformation: str) -> list[Any]:
    """The children's results after a WriterConfig ``Transformation``."""
    out: list[Any] = []
    for child in children:
        if transformation == "NONE" or child.status != SUCCEEDED:
            # AWS: a failed child's result is reported unchanged, as with NONE.
            out.append(record(run, child) if transformation == "NONE" else _value(child))
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            out.extend(child.output)
        else:
            out.append(child.output)
    return out


def _writer_failed(cause: str) -> StatesError:
    return StatesError(RESULT_WRITER_FAILED, cause)


def _target(visit: Visit, writer: dict[str, Any], effective: Any) -> tuple[str, str]:
    if visit.jsonata:
        binding = dataflow.states_binding(visit.raw, visit.context)
        params = jsonata_eval.render(
            writer.get("Arguments", {}), binding, visit.scope, field="Arguments"
        )
    else:
        params = templates.render(
            writer.get("Parameters", {}),
            effective,
            visit.context,
            visit.scope,
            field="Parameters",
        )
    if not isinstance(params, dict) or not isinstance(params.get("Bucket"), str):
        raise _writer_failed("The ResultWriter parameters must name a Bucket.")
    prefix = params.get("Prefix", "")
    return params["Bucket"], prefix if isinstance(prefix, str) else str(prefix)


def _encode(values: list[Any], output_type: str) -> bytes:
    if output_type == "JSONL":
        return b"".join(orjson.dumps(value) + b"\n" for value in values)
    return orjson.dumps(values)


async def write(visit: Visit, effective: Any, run: MapRun) -> Any:
    """The Map's result given its ResultWriter (see the module docstring)."""
    writer = visit.state["ResultWriter"]
    config = writer.get("WriterConfig") or {}
    children = run.children
    if "Resource" not in writer:
        return transformed(run, children, config.get("Transformation", "COMPACT"))
    if not str(writer["Resource"]).endswith(PUT_OBJECT):
        raise _writer_failed(f"Unsupported ResultWriter resource: {writer['Resource']}")
    store = visit.run.services.items
    if store is None:
        raise _writer_failed("No S3 access is configured for ResultWriter.")
    bucket, prefix = _target(visit, writer, effective)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{run.arn.rsplit(':', 1)[-1]}/"
    transformation = config.get("Transformation", "NONE")
    output_type = config.get("OutputType", "JSON")
    extension = ".jsonl" if output_type == "JSONL" else ".json"
    files: dict[str, list[dict[str, Any]]] = {status: [] for status in _STATUSES}
    for status in _STATUSES:
        group = [child for child in children if child.status == status]
        if not group:
            continue
        body = _encode(transformed(run, group, transformation), output_type)
        key = f"{folder}{status}_0{extension}"
        await _put(store, bucket, key, body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": run.arn, "ResultFiles": files}
    manifest_key = folder + "manifest.json"
    await _put(store, bucket, manifest_key, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return {"MapRunArn": run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


async def _put(store: Any, bucket: str, key: str, body: bytes) -> None:
    try:
        await store.put_object(bucket, key, body)
    except StatesError as error:
        raise _writer_failed(error.cause or error.error) from None

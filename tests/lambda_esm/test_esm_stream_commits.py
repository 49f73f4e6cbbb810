"""``stream_commits.CommitQueue``: the shards' checkpoints and OnFailure records are committed
off the invocation path, together, and a failed commit makes the shard read again from its
durable checkpoint."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from esm_kinesis_support import (
    call,
    checkpoints_of,
    create_function,
    create_queue,
    create_stream,
    invocations,
    mapping,
    put,
    receive_all,
    succeeded,
    wait_for,
)

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.mappings import checkpoints, stream_commits
from lambdamaker.services.lambda_.mappings.stream_commits import CommitQueue, Failure


@pytest.fixture()
def uuid(platform: Platform) -> str:
    """A disabled mapping (its checkpoint rows belong to it; no poller writes them)."""
    create_function(platform, "consumer")
    arn = create_stream(platform, "orders")
    return mapping(platform, "consumer", arn, Enabled=False)


class Sink:
    def __init__(self, shard_id: str) -> None:
        self.shard_id = shard_id
        self.committed_to: list[str] = []
        self.errors: list[BaseException] = []

    def committed(self, checkpoint: str) -> None:
        self.committed_to.append(checkpoint)

    def commit_failed(self, error: BaseException) -> None:
        self.errors.append(error)


def test_queued_progress_commits_in_one_transaction_newest_checkpoint_per_shard(
    platform: Platform, uuid: str
) -> None:
    checkpoints.create(platform.store, uuid, {"shard-a": None, "shard-b": None}, 0)
    url, queue_arn = create_queue(platform, "failures")
    queue = CommitQueue(platform, uuid, lambda: 1)
    a, b = Sink("shard-a"), Sink("shard-b")
    queue._commit(
        [
            stream_commits._Entry(a, "1", None),
            stream_commits._Entry(b, "7", Failure(queue_arn, '{"n": 1}', 3)),
            stream_commits._Entry(a, "2", Failure(queue_arn, '{"n": 2}', 1)),
            stream_commits._Entry(b, None, None),
        ]
    )
    assert checkpoints_of(platform, uuid) == {"shard-a": "2", "shard-b": "7"}
    assert a.committed_to == ["2"] and b.committed_to == ["7"]
    assert [m["n"] for m in receive_all(platform, url)] == [1, 2]


def test_a_failed_commit_writes_nothing_and_tells_every_shard_in_it(
    platform: Platform, uuid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints.create(platform.store, uuid, {"shard-a": None, "shard-b": None}, 0)
    url, queue_arn = create_queue(platform, "failures")

    def broken(*args: Any) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(checkpoints, "advance", broken)
    queue = CommitQueue(platform, uuid, lambda: 1)
    a, b = Sink("shard-a"), Sink("shard-b")
    queue.put(a, "1", Failure(queue_arn, '{"n": 1}', 1))
    queue.put(b, "5", None)
    queue.flush()
    assert [str(e) for e in a.errors] == ["disk gone"] and len(b.errors) == 1
    assert a.committed_to == [] and b.committed_to == []
    assert checkpoints_of(platform, uuid) == {"shard-a": None, "shard-b": None}
    assert receive_all(platform, url) == []  # the OnFailure record went with the checkpoint


def test_what_a_failed_shard_queues_is_dropped_until_it_recovers(
    platform: Platform, uuid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints.create(platform.store, uuid, {"shard-a": None, "shard-b": None}, 0)
    url, queue_arn = create_queue(platform, "failures")
    real = checkpoints.advance
    calls: list[str] = []

    def fail_first(*args: Any) -> None:
        calls.append(args[3])
        if len(calls) == 1:
            raise RuntimeError("store busy")
        real(*args)

    monkeypatch.setattr(checkpoints, "advance", fail_first)
    queue = CommitQueue(platform, uuid, lambda: 1)
    a, b = Sink("shard-a"), Sink("shard-b")
    queue.put(a, "1", None)
    queue.flush()
    assert len(a.errors) == 1
    # Queued after the failure: committing "2" would skip what "1" (and its OnFailure) held.
    queue.put(a, "2", Failure(queue_arn, '{"n": 2}', 1))
    queue.put(b, "5", None)
    queue.flush()
    assert checkpoints_of(platform, uuid) == {"shard-a": None, "shard-b": "5"}
    assert receive_all(platform, url) == []
    queue.recover(a)
    queue.put(a, "1", None)
    queue.flush()
    assert checkpoints_of(platform, uuid) == {"shard-a": "1", "shard-b": "5"}


def test_flush_waits_for_what_was_queued_and_the_thread_leaves_when_idle(
    platform: Platform, uuid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints.create(platform.store, uuid, {"shard-a": None}, 0)
    release = threading.Event()
    real = checkpoints.advance

    def slow(*args: Any) -> None:
        release.wait(10)
        real(*args)

    monkeypatch.setattr(checkpoints, "advance", slow)
    monkeypatch.setattr(CommitQueue, "idle_s", 0.05)
    queue = CommitQueue(platform, uuid, lambda: 1, name="esm-commit-test")
    sink = Sink("shard-a")
    queue.put(sink, "3", None)
    flushed = threading.Event()

    def flush() -> None:
        queue.flush()
        flushed.set()

    threading.Thread(target=flush, daemon=True).start()
    assert not flushed.wait(0.2)
    release.set()
    assert flushed.wait(10)
    assert checkpoints_of(platform, uuid) == {"shard-a": "3"}
    wait_for(lambda: not any(t.name == "esm-commit-test" for t in threading.enumerate()), 10)


def test_progress_gathers_for_a_moment_then_commits_in_one_transaction_or_at_a_flush(
    platform: Platform, uuid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints.create(platform.store, uuid, {"shard-a": None, "shard-b": None}, 0)
    monkeypatch.setattr(CommitQueue, "gather_s", 0.3)
    queue = CommitQueue(platform, uuid, lambda: 1, name="esm-commit-gather")
    a, b = Sink("shard-a"), Sink("shard-b")
    for sink, checkpoint in ((a, "1"), (b, "2"), (a, "3")):
        queue.put(sink, checkpoint, None)
        time.sleep(0.05)
    assert checkpoints_of(platform, uuid) == {"shard-a": None, "shard-b": None}  # gathering
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shard-a": "3", "shard-b": "2"}, 5)
    assert (a.committed_to, b.committed_to) == (["3"], ["2"])  # one transaction: the newest
    # a flush does not wait for the window
    queue.put(b, "4", None)
    started = time.monotonic()
    queue.flush()
    assert time.monotonic() - started < 0.25
    assert checkpoints_of(platform, uuid) == {"shard-a": "3", "shard-b": "4"}


@pytest.mark.usefixtures("fast_stream_poller")
def test_a_shard_whose_commit_failed_reads_again_from_its_durable_checkpoint(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = checkpoints.advance
    failed: list[str] = []

    def fail_once(*args: Any) -> None:
        if not failed:
            failed.append(args[3])
            raise RuntimeError("store busy")
        real(*args)

    monkeypatch.setattr(checkpoints, "advance", fail_once)
    create_function(platform, "consumer")
    arn = create_stream(platform, "orders")
    seqs = put(platform, "orders", [("k", {"n": i}) for i in range(12)])
    uuid = mapping(platform, "consumer", arn, BatchSize=4)
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": seqs[-1]})
    assert failed
    delivered = succeeded(platform, "consumer")
    assert set(delivered) == set(seqs)
    assert delivered[:4] == seqs[:4] and delivered.count(seqs[0]) == 2  # the first batch again
    order = [
        int(r["kinesis"]["sequenceNumber"])
        for c in invocations(platform, "consumer")
        for r in c["records"]
    ]
    seen: set[int] = set()
    for n in order:  # re-deliveries only repeat records already seen; new ones come in order
        assert n in seen or all(n > s for s in seen)
        seen.add(n)
    assert call(platform, "lambda", "GetEventSourceMapping", UUID=uuid)["State"] == "Enabled"

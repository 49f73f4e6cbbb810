"""Crash and restart: what the server acknowledged survives; nothing partial becomes visible."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambdamaker.testing import ServerProcess

MB = 1024 * 1024


def test_restart_keeps_every_object_and_bucket(tmp_path: Path) -> None:
    data = tmp_path / "data"
    expected: dict[str, bytes] = {}
    with ServerProcess(data) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="keep")
        for i in range(20):
            body = os.urandom(1000 + i * 997)
            expected[f"dir/obj-{i}"] = body
            s3.put_object(Bucket="keep", Key=f"dir/obj-{i}", Body=body, Metadata={"i": str(i)})
    with ServerProcess(data) as server:
        s3 = server.client("s3")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep"]
        listed = s3.list_objects_v2(Bucket="keep")["Contents"]
        assert sorted(o["Key"] for o in listed) == sorted(expected)
        for key, body in expected.items():
            got = s3.get_object(Bucket="keep", Key=key)
            assert got["Body"].read() == body
            assert got["Metadata"]["i"] == key.rsplit("-", 1)[1]


@pytest.mark.slow
def test_kill_9_during_uploads_leaves_no_partial_object(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()
    server = ServerProcess(data).start()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="crash")

    def uploader(worker: int) -> None:
        client = server.client("s3")
        i = 0
        while not stop.is_set():
            body = os.urandom(2 * MB + worker * 1000 + i)
            key = f"w{worker}/o{i}"
            try:
                client.put_object(Bucket="crash", Key=key, Body=body)
            except Exception:
                return  # the server died under us: this one was never acknowledged
            with lock:
                acknowledged[key] = hashlib.md5(body).hexdigest()
            i += 1

    threads = [threading.Thread(target=uploader, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while len(acknowledged) < 12:
        threads[0].join(0.05)
    server.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acknowledged) >= 12

    with ServerProcess(data) as again:
        s3 = again.client("s3")
        listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket="crash").get("Contents", [])}
        # Everything acknowledged is there, byte for byte.
        for key, md5 in acknowledged.items():
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == md5, key
        # Anything else visible was committed whole before the crash (ETag = MD5 of its bytes).
        for key, obj in listed.items():
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            assert obj["ETag"].strip('"') == hashlib.md5(body).hexdigest(), key
            assert obj["Size"] == len(body)
        # No spooled leftovers, no orphan blobs beyond the visible objects.
        assert list((data / "tmp").iterdir()) == []
        blobs = [p for sub in (data / "objects" / "s3").iterdir() for p in sub.iterdir()]
        assert len(blobs) == len(listed)
        with pytest.raises(ClientError):
            s3.head_object(Bucket="crash", Key="never-written")

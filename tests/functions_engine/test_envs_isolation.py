"""Isolation: each function has its own uid, /tmp (with a quota), view of code and processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from envs_helpers import body, call

from lambdamaker.engines.functions.engine import FunctionEngine

PROBE_APP = """
import errno, os

def attempt(fn):
    try:
        return fn()
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))

def handler(event, context):
    action = event["action"]
    if action == "write_tmp":
        for d in ("/tmp", "/dev/shm", "/var/tmp"):
            with open(f"{d}/secret.txt", "w") as f:
                f.write(event["text"])
        return {"pid": os.getpid(), "uid": os.getuid(), "code": os.environ["LAMBDA_TASK_ROOT"]}
    if action == "read_tmp":
        return [attempt(lambda: open(f"{d}/secret.txt").read()) for d in ("/tmp", "/dev/shm", "/var/tmp")]
    if action == "probe":
        pid, code = event["pid"], event["code"]
        return {
            "environ": attempt(lambda: open(f"/proc/{pid}/environ", "rb").read().decode()),
            "their_tmp": attempt(lambda: open(f"/proc/{pid}/root/tmp/secret.txt").read()),
            "their_code": attempt(lambda: open(os.path.join(code, "app.py")).read()),
            "their_code_dir": attempt(lambda: os.listdir(code)),
            "code_parent": attempt(lambda: sorted(os.listdir(os.path.dirname(code)))),
            "kill": attempt(lambda: os.kill(pid, 0)),
            "uid": os.getuid(),
        }
    if action == "fill_tmp":
        written = 0
        try:
            with open("/tmp/big", "wb") as f:
                for _ in range(event["mb"]):
                    f.write(b"x" * (1 << 20))
                    f.flush()
                    written += 1
        except OSError as exc:
            return {"written_mb": written, "error": errno.errorcode[exc.errno]}
        return {"written_mb": written, "error": None}
    if action == "write_code":
        return attempt(lambda: open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "x"), "w"))
    raise ValueError(action)
"""


def test_a_function_cannot_read_another_functions_tmp_shm_environ_or_code(
    engine: FunctionEngine, make_fn
) -> None:
    alice = make_fn({"app.py": PROBE_APP}, environment={"SECRET": "alice-secret"})
    bob = make_fn({"app.py": PROBE_APP})
    a = body(call(engine, alice, {"action": "write_tmp", "text": "alice's data"}))
    probe = body(call(engine, bob, {"action": "probe", "pid": a["pid"], "code": a["code"]}))
    assert probe["uid"] != a["uid"]
    # another function's processes are invisible (hidepid) and unreadable (uid)
    assert probe["environ"] in ("ENOENT", "EACCES", "ESRCH")
    assert probe["their_tmp"] in ("ENOENT", "EACCES", "ESRCH")
    assert probe["kill"] in ("EPERM", "ESRCH")
    # another function's code is not in this function's view
    assert probe["their_code"] in ("ENOENT", "EACCES")
    assert probe["their_code_dir"] in ("ENOENT", "EACCES")
    assert body(call(engine, bob, {"action": "read_tmp"})) == ["ENOENT"] * 3
    assert body(call(engine, alice, {"action": "read_tmp"})) == ["alice's data"] * 3


def test_the_code_directory_shows_only_the_functions_own_code_read_only(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": PROBE_APP})
    a = body(call(engine, spec, {"action": "write_tmp", "text": "x"}))
    probe = body(call(engine, spec, {"action": "probe", "pid": a["pid"], "code": a["code"]}))
    assert probe["code_parent"] == ["code"]  # siblings (layers, other functions) are masked
    assert "def handler" in probe["their_code"]  # its own code is readable
    assert body(call(engine, spec, {"action": "write_code"})) in ("EROFS", "EACCES")


def test_tmp_has_the_ephemeral_storage_quota(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": PROBE_APP}, ephemeral_storage_mb=16, memory_mb=256)
    out = body(call(engine, spec, {"action": "fill_tmp", "mb": 40}))
    assert out["error"] == "ENOSPC"
    assert 12 <= out["written_mb"] <= 16


def test_each_environment_starts_with_its_own_tmp(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {
            "app.py": """
            import os, time
            def handler(event, context):
                if event.get("write"):
                    open("/tmp/mine", "w").write(str(os.getpid()))
                if event.get("hold"):
                    time.sleep(event["hold"])
                return os.path.exists("/tmp/mine")
            """
        }
    )
    assert body(call(engine, spec, {"write": True})) is True
    # a second, concurrent environment of the same function: a fresh /tmp
    import threading

    results: list[bool] = []
    holder = threading.Thread(
        target=lambda: results.append(body(call(engine, spec, {"hold": 1.0})))
    )
    holder.start()
    while engine.pool.inflight(spec.function_arn) < 1:
        time.sleep(0.001)  # let the environment run
    fresh = body(call(engine, spec, {}))
    holder.join()
    assert results == [True] and fresh is False


def test_uids_are_distinct_per_function_and_stable(
    engine: FunctionEngine, make_fn, tmp_path: Path
) -> None:
    one = make_fn({"app.py": "import os\ndef handler(e, c):\n    return os.getuid()\n"})
    two = make_fn({"app.py": "import os\ndef handler(e, c):\n    return os.getuid()\n"})
    uid_one, uid_two = body(call(engine, one)), body(call(engine, two))
    assert uid_one != uid_two and min(uid_one, uid_two) >= 2_000_000
    engine.retire(one.function_arn)
    assert body(call(engine, one)) == uid_one
    assert os.geteuid() == 0

"""Snapshots and zygotes: environments forked with init done, re-seeded, restore hooks run."""

from __future__ import annotations

import threading
import time

from envs_helpers import body, call

from lambdamaker.engines.functions.engine import FunctionEngine

RANDOM_APP = """
import os, random, time, uuid
import numpy as np

AT_INIT = random.random()
STATE = {"restored": 0, "before": 0}

from lambdamaker.runtime import register_after_restore, register_before_snapshot

@register_before_snapshot
def before():
    STATE["before"] += 1

def after(tag, *, times=1):
    STATE["restored"] += times
    STATE["tag"] = tag

register_after_restore(after, "hooked", times=2)

def handler(event, context):
    if event.get("hold"):
        time.sleep(event["hold"])
    return {
        "pid": os.getpid(),
        "random": random.random(),
        "numpy": float(np.random.rand()),
        "uuid": str(uuid.uuid4()),
        "urandom": os.urandom(8).hex(),
        "at_init": AT_INIT,
        "state": STATE,
        "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
    }
"""


def two_environments(engine: FunctionEngine, spec) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Two concurrent invocations, hence two environments forked from the same template."""
    out: list[dict] = []
    first = threading.Thread(target=lambda: out.append(body(call(engine, spec, {"hold": 0.5}))))
    first.start()
    while engine.pool.inflight(spec.function_arn) < 1:
        time.sleep(0.001)  # let the environment run
    second = body(call(engine, spec, {}))
    first.join()
    return out[0], second


def test_forked_environments_are_reseeded(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": RANDOM_APP}, preload=("numpy",), memory_mb=512)
    a, b = two_environments(engine, spec)
    assert a["pid"] != b["pid"]
    assert a["at_init"] == b["at_init"]  # init ran once, in the snapshot
    for name in ("random", "numpy", "uuid", "urandom"):
        assert a[name] != b[name], name


def test_after_restore_hooks_run_in_each_environment_before_snapshot_once(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": RANDOM_APP}, preload=("numpy",), memory_mb=512)
    a, b = two_environments(engine, spec)
    for out in (a, b):
        assert out["state"] == {"restored": 2, "before": 1, "tag": "hooked"}
        assert out["init_type"] == "snap-start"


def test_without_a_snapshot_init_runs_per_environment_and_no_hooks(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": RANDOM_APP}, preload=("numpy",), memory_mb=512, snapshot=False)
    a, b = two_environments(engine, spec)
    assert a["at_init"] != b["at_init"]
    assert a["state"] == b["state"] == {"restored": 0, "before": 0}
    assert a["init_type"] == "on-demand"


def test_a_cold_start_from_a_snapshot_forks_instead_of_running_init(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn(
        {
            "app.py": """
            import os, time
            time.sleep(1.0)  # slow init: paid once, by the snapshot
            def handler(event, context):
                return os.getpid()
            """
        }
    )
    first = call(engine, spec)
    assert first.cold_start and first.init_duration_ms is not None
    assert first.init_duration_ms >= 1000
    engine.retire(spec.function_arn, "$NONE")  # no-op: another version
    env = engine.environments(spec)[0]
    env.stop()  # force the next invocation to need a new environment
    engine.pool.tick()
    second = call(engine, spec)
    assert second.cold_start and second.init_duration_ms is not None
    assert second.init_duration_ms < 500
    assert body(second) != body(first)


def test_preload_modules_are_in_the_zygote(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {
            "app.py": """
            import sys
            def handler(event, context):
                return "json" in sys.modules and "numpy" in sys.modules
            """
        },
        preload=("numpy",),
        snapshot=False,
    )
    assert body(call(engine, spec)) is True


def test_a_retired_version_gets_new_environments_and_a_new_snapshot(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": "import os\nPID = os.getpid()\ndef handler(e, c):\n    return PID\n"})
    before = body(call(engine, spec))
    engine.retire(spec.function_arn)
    assert engine.environments(spec) == []
    after = call(engine, spec)
    assert after.cold_start and body(after) != before

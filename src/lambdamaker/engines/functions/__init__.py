"""The functions engine: execution environments for Lambda functions (issue 3).

``FunctionEngine`` (``engine.py``) is the facade the Lambda provider calls. The rest, by layer:

- contracts: ``spec.py`` (FunctionSpec, InvokeRequest, InvokeResult), ``environment.py``
  (Environment, LogSink), ``keepalive_policy.py``;
- policy: ``pool.py`` (scaling, throttling, keep-alive, provisioned concurrency);
- Python environments: ``python_env.py`` (platform side), ``snapshot.py`` (per-version
  snapshots and spares), ``zygote.py`` (template processes), ``launch.py`` (environment
  variables, paths), ``limits.py`` (cgroups, uids), ``priority.py`` (nice, process groups),
  ``ipc.py``, and ``bootstrap/`` (what runs inside the processes);
- ``provided_env.py`` + ``runtime_api.py``: ``provided.*`` runtimes over the Lambda Runtime API.

Imports are lazy so that a process loading only ``spec`` (or the bootstrap) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdamaker.engines.functions.engine import FunctionEngine

__all__ = ["FunctionEngine"]


def __getattr__(name: str) -> Any:
    if name == "FunctionEngine":
        from lambdamaker.engines.functions.engine import FunctionEngine

        return FunctionEngine
    raise AttributeError(name)

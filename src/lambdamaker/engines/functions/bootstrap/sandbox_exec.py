"""Start a ``provided.*`` bootstrap inside the sandbox Python environments get.

Usage: ``python -I sandbox_exec.py PARAMS_JSON BOOTSTRAP``. Run as root, single-threaded: the
platform itself has threads, and building a mount namespace in a ``preexec_fn`` after ``fork``
in a threaded process can deadlock, so this tiny launcher does it instead and then ``exec``s
the bootstrap, keeping its pid (the platform's cgroup and exit watching see the bootstrap).

PARAMS_JSON has ``uid``, ``gid``, ``tmp_mb``, ``runtime``, ``private``, ``hide`` and ``cwd``,
as ``sandbox.enter_from_root`` takes them. ``-I`` keeps the function's ``PYTHONPATH`` from
reaching this root process, and ``sandbox.py`` is loaded by path (standard library only), so no
code the function controls runs before the uid drop.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from types import ModuleType


def _load_sandbox() -> ModuleType:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
    spec = importlib.util.spec_from_file_location("_lambdamaker_sandbox", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> None:
    params = json.loads(argv[1])
    command = argv[2:]
    sandbox = _load_sandbox()
    try:
        sandbox.drop_controlling_terminal()
        sandbox.enter_from_root(
            uid=params["uid"],
            gid=params["gid"],
            tmp_mb=params["tmp_mb"],
            runtime=params["runtime"],
            private=params["private"],
            hide=params["hide"],
        )
        os.chdir(params["cwd"])
        os.execv(command[0], command)
    except Exception as exc:  # reported as the runtime's exit, like any failed exec
        print(f"lambdamaker: could not start the bootstrap in its sandbox: {exc}", file=sys.stderr)
        os._exit(126)


if __name__ == "__main__":
    main(sys.argv)

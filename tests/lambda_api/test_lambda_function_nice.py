"""``lambdamaker server --function-nice N``: functions invoked through boto3 run N steps below
the server, in the server's session (its scheduler autogroup), each in its own process group."""

from __future__ import annotations

import json
import os
from pathlib import Path

from function_support import create_function
from lambdamaker.testing import ServerProcess

APP = """
import os

def handler(event, context):
    return {"pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0),
            "nice": os.getpriority(os.PRIO_PROCESS, 0)}
"""


def test_function_nice_reaches_the_functions_of_a_server(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", extra_args=["--function-nice", "7"]) as server:
        lam = server.client("lambda")
        arn = create_function(lam, APP, "nice")
        got = json.loads(lam.invoke(FunctionName=arn)["Payload"].read())
        server_nice = os.getpriority(os.PRIO_PROCESS, server.proc.pid)
        assert got["nice"] == min(19, server_nice + 7)
        assert got["sid"] == os.getsid(server.proc.pid)
        assert got["pgid"] == got["pid"]

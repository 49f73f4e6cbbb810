"""Entry point of the base zygote: ``python -I -c <loader> <control fd>``.

The loader (``zygote.py`` on the platform side builds it) registers this directory as the
package ``_lambdamaker_bootstrap`` and calls ``main``. The base zygote imports what every
Python environment needs, reports ``ready`` with the interpreter's version, and serves.
"""

from __future__ import annotations

# Besides os/socket/sys: what every environment imports anyway, loaded once here and shared
# by every fork.
import base64  # noqa: F401
import decimal  # noqa: F401
import json  # noqa: F401
import logging  # noqa: F401
import os
import socket
import sys
import traceback  # noqa: F401
import uuid  # noqa: F401

from . import envloop, framing, sandbox, template  # noqa: F401

PROBE_UID = 65533
"""An unprivileged uid for the probe (``nogroup``'s neighbour; nothing is created as it)."""


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[0]))
    paths = template.runtime_paths()
    framing.send_control(
        control,
        {
            "ready": True,
            "pid": os.getpid(),
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "runtime_paths": paths,
            "root": os.geteuid() == 0,
            "sandbox": probe_sandbox(),
        },
    )
    template.Template(control, "zygote", paths).serve()


def probe_sandbox() -> str:
    """What isolation this host allows, tried once in a throwaway child: ``full`` (a mount
    namespace as root, then a user namespace as the function's uid), ``root-only`` (no
    unprivileged user namespaces: a snapshot's children share its /tmp), or ``none``."""
    if os.geteuid() != 0:
        return "none"
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            sandbox.unshare(sandbox.CLONE_NEWNS)
            sandbox.mount(None, "/", None, sandbox.MS_REC | sandbox.MS_PRIVATE, None)
            sandbox.mount("tmpfs", "/tmp", "tmpfs", sandbox.MS_NOSUID, "size=1m")
            code = 1
            os.setgroups([])
            os.setresgid(PROBE_UID, PROBE_UID, PROBE_UID)
            os.setresuid(PROBE_UID, PROBE_UID, PROBE_UID)
            sandbox.unshare(sandbox.CLONE_NEWUSER | sandbox.CLONE_NEWNS)
            code = 0
        except BaseException:
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return {0: "full", 1: "root-only"}.get(os.waitstatus_to_exitcode(status), "none")

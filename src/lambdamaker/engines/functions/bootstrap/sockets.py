"""Connections opened before a template serves forks: made to read as dropped, once, in the
template.

A snapshot imports the handler module, so init code runs there; a preload zygote imports its
modules. A TCP connection opened then (``boto3.client("sqs").get_queue_url(...)`` at module
level, a model downloaded from S3 at import) stays in its client's keep-alive pool, and every
environment forked afterwards would inherit the *same* connection: concurrent environments
interleave requests on one TCP stream, the server sees garbage, handlers get 400s or each
other's responses. AWS SnapStart has the same hazard and documents it: connections established
during init may not be valid after restore, and clients must be ready to reconnect.

Invariant: no environment shares a connected TCP socket with its template or its siblings.
``neutralize_inherited_connections`` runs once in the template, after init and the
before-snapshot hooks and before the first fork. It ``dup2``'s, onto each connected, non-listening
``AF_INET``/``AF_INET6`` stream socket, one end of a ``socketpair`` whose peer is closed: it
reads as EOF (readable, zero bytes) and writes fail with ``EPIPE``. Client libraries take that
for an idle connection the server closed: urllib3 checks ``is_connection_dropped`` (readable
means dropped) before reusing a pooled connection and opens a new one, so botocore carries on
with no user code change; database and Redis clients reconnect on the error.

Why in the template rather than in each environment: the template never uses user connections
itself (it only forks), so one pass there covers every child at no cost on the cold path, and
the real connection is closed where its last descriptor lived, so the server sees a clean close
instead of a connection an idle snapshot would hold open for its whole life.

Left alone: listening sockets (a server the handler set up on purpose), unconnected sockets,
UDP (datagrams do not interleave, and no client reconnects a UDP socket, so breaking one would
lose data rather than protect it), Unix sockets (the template's own control channel and the
environments' IPC are Unix sockets; ``keep`` names them anyway). Environments of ``provided.*``
runtimes exec their bootstrap and never come from a snapshot.
"""

from __future__ import annotations

import os
import resource
import socket
import stat

_INET = (socket.AF_INET, socket.AF_INET6)


def _candidate_fds() -> list[int]:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no /proc in this view: look at every possible descriptor
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return list(range(3, min(soft, 65536)))
    return sorted(int(name) for name in names if name.isdigit())


def _is_shared_connection(fd: int) -> bool:
    """A connected, non-listening TCP socket (over IPv4 or IPv6)."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        # A dup to inspect: the user's socket object owns ``fd`` and must not be closed here.
        probe = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        if probe.family not in _INET or probe.type != socket.SOCK_STREAM:
            return False
        if probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return False
        probe.getpeername()  # ENOTCONN for a socket that is not connected
        return True
    except OSError:
        return False
    finally:
        probe.close()


def neutralize_inherited_connections(keep: frozenset[int] = frozenset()) -> list[int]:
    """Make every connected TCP socket of this process read as closed by its peer; answer the
    descriptors changed. ``keep``: descriptors never touched (the template's own)."""
    targets = [fd for fd in _candidate_fds() if fd > 2 and fd not in keep]
    targets = [fd for fd in targets if _is_shared_connection(fd)]
    if not targets:
        return []
    dead, peer = socket.socketpair()
    peer.close()  # from now on ``dead`` reads EOF and refuses writes (EPIPE)
    try:
        for fd in targets:
            # Atomically replaces the descriptor: the user's socket object keeps a valid fd
            # (no double close, no reuse of the number by an unrelated file).
            os.dup2(dead.fileno(), fd, inheritable=False)
    finally:
        dead.close()
    return targets

"""The wire between the platform and the processes it forks: msgpack, framed two ways.

- Environment channels are ``SOCK_STREAM`` socket pairs carrying length-prefixed frames
  (4-byte big-endian length, then a msgpack body), because payloads reach 6 MB and more.
- Control channels (platform <-> zygote/snapshot) are ``SOCK_SEQPACKET`` pairs: one message
  per packet, so file descriptors (``SCM_RIGHTS``) travel with the message they belong to.

Messages on an environment channel are msgpack arrays whose first item is the kind, so that
the warm path packs and unpacks one small list and nothing else.
"""

from __future__ import annotations

import array
import select
import socket
from typing import Any

import msgpack

# Environment channel, platform -> environment.
START = 1
"""[START, log_stream, initialization_type]: become this environment; answer READY."""
INVOKE = 2
"""[INVOKE, request_id, payload, invoked_arn, deadline_ms, client_context, identity, trace_id]"""

# Environment channel, environment -> platform.
READY = 10
"""[READY, error_document_or_None, log_end]"""
RESULT = 11
"""[RESULT, status, body, log_end, max_rss_kb]; status OK, HANDLED_ERROR or FAULT."""

OK = 0
ERROR = 1
"""The handler raised, or the runtime failed the invocation (``Runtime.MarshalError``...)."""

MAX_FRAME = 256 << 20
MAX_CONTROL = 1 << 18
_packb = msgpack.Packer(use_bin_type=True).pack


def pack(obj: Any) -> bytes:
    return _packb(obj)


def unpack(data: bytes | bytearray | memoryview) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def encode_frame(obj: Any) -> bytes:
    body = _packb(obj)
    return len(body).to_bytes(4, "big") + body


def send_frame(sock: socket.socket, obj: Any) -> None:
    body = _packb(obj)
    n = len(body)
    if n < 1 << 16:
        sock.sendall(n.to_bytes(4, "big") + body)
    else:  # no concatenation copy for large payloads
        sock.sendall(n.to_bytes(4, "big"))
        sock.sendall(body)


class FrameReader:
    """Reads whole frames from a stream socket; ``read()`` returns None at end of stream.

    The common case, one ``recv`` holding exactly one frame, costs one syscall (and a ``poll``
    with ``wait_readable``) and no copy.
    Socket timeouts propagate as ``TimeoutError`` with any partial frame kept for the next call.

    With ``wait_readable`` (for a blocking socket), every receive first waits in ``poll`` for
    input. A task asleep in a Unix stream socket's ``recv`` is also woken when the peer reads
    what the task wrote (the kernel's write-space wakeup does not look at what the sleeper
    waits for), so an environment whose answer the platform read after the environment went
    back to waiting was woken for nothing: one more context switch per invocation. ``poll``
    sleeps until there is input.
    """

    __slots__ = ("_buf", "_poll", "_sock")

    def __init__(self, sock: socket.socket, *, wait_readable: bool = False) -> None:
        self._sock = sock
        self._buf = b""
        self._poll: select.poll | None = None
        if wait_readable:
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN)

    def _recv(self) -> bytes:
        if self._poll is not None:
            self._poll.poll()
        return self._sock.recv(1 << 16)

    def read(self) -> Any:
        buf = self._buf
        if not buf:
            buf = self._recv()
            if not buf:
                return None
        while True:
            have = len(buf)
            if have >= 4:
                n = int.from_bytes(buf[:4], "big")
                if n > MAX_FRAME:
                    raise ValueError(f"frame of {n} bytes is over the limit")
                end = 4 + n
                if have == end:
                    self._buf = b""
                    return unpack(memoryview(buf)[4:])
                if have > end:
                    self._buf = buf[end:]
                    return unpack(memoryview(buf)[4:end])
                if n >= 1 << 16:
                    self._buf = buf
                    return self._read_large(n)
            chunk = self._recv()
            if not chunk:
                return None
            buf = buf + chunk
            self._buf = buf

    def _read_large(self, n: int) -> Any:
        """A frame bigger than the read size: receive straight into one buffer."""
        head = self._buf
        body = bytearray(n)
        view = memoryview(body)
        got = len(head) - 4
        view[:got] = head[4:]
        self._buf = b""
        while got < n:
            count = self._sock.recv_into(view[got:])
            if count == 0:
                return None
            got += count
        return unpack(body)


def send_control(sock: socket.socket, obj: Any, fds: list[int] | tuple[int, ...] = ()) -> None:
    data = _packb(obj)
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.send(data)


def recv_control(sock: socket.socket, maxfds: int = 4) -> tuple[Any, list[int]]:
    """One control message and the descriptors that came with it; (None, []) at EOF."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(
        MAX_CONTROL, socket.CMSG_SPACE(maxfds * fds.itemsize)
    )
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(cdata) - (len(cdata) % fds.itemsize)
            fds.frombytes(cdata[:usable])
    if not data:
        for fd in fds:
            _close(fd)
        return None, []
    return unpack(data), list(fds)


def _close(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass

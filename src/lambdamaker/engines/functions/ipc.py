"""Platform side of the IPC with environment and template processes.

Wire format: ``bootstrap/framing.py`` (length-prefixed msgpack on stream sockets for
environments, one msgpack message per packet on ``SOCK_SEQPACKET`` for templates). No HTTP and
no thread hop: the invoking thread writes the request and reads the answer itself.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from typing import Any

from lambdamaker.engines.functions.bootstrap import framing


class ChannelClosed(Exception):
    """The process on the other end is gone (end of stream)."""


class EnvironmentGone(Exception):
    """An environment died while idle: the invocation was not delivered and may go to
    another environment."""


class Channel:
    """One environment's socket. Not thread-safe: an environment has one caller at a time."""

    __slots__ = ("_fd", "_poll", "_reader", "_timeout", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._fd = sock.fileno()
        self._reader = framing.FrameReader(sock)
        self._timeout: float | None = -1.0
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN | select.POLLHUP)

    def send(self, msg: list[Any]) -> None:
        # os.write skips the poll() a socket with a timeout does before every send.
        data = framing.encode_frame(msg)
        try:
            try:
                sent = os.write(self._fd, data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                self.sock.sendall(memoryview(data)[sent:])
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ChannelClosed from exc

    def recv(self, timeout: float | None) -> Any:
        """The next frame; ``TimeoutError`` after ``timeout`` s; ``ChannelClosed`` at EOF."""
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout
        try:
            msg = self._reader.read()
        except ConnectionResetError as exc:
            raise ChannelClosed from exc
        if msg is None:
            raise ChannelClosed
        return msg

    def readable(self) -> bool:
        """Whether something (data or EOF) is waiting: an idle environment never writes, so
        for one that is idle this means it died."""
        try:
            return bool(self._poll.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.sock.close()


class ControlChannel:
    """Request/response with a template process, serialized by a lock."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    def request(
        self, msg: dict[str, Any], fds: tuple[int, ...] = (), timeout: float | None = 30.0
    ) -> dict[str, Any]:
        with self._lock:
            try:
                self.sock.settimeout(timeout)
                framing.send_control(self.sock, msg, fds)
                reply, extra = framing.recv_control(self.sock)
            except TimeoutError:
                raise
            except OSError as exc:  # reset, broken pipe, or closed by a concurrent stop()
                raise ChannelClosed from exc
            for fd in extra:
                os.close(fd)
        if reply is None:
            raise ChannelClosed
        if set(reply) == {"error"}:
            raise RuntimeError(f"template refused {msg.get('op')}: {reply['error']}")
        return dict(reply)

    def receive(self, timeout: float | None) -> dict[str, Any]:
        """One unsolicited message (a new template's ``ready``)."""
        with self._lock:
            try:
                self.sock.settimeout(timeout)
                reply, extra = framing.recv_control(self.sock)
            except TimeoutError:
                raise
            except OSError as exc:
                raise ChannelClosed from exc
            for fd in extra:
                os.close(fd)
        if reply is None:
            raise ChannelClosed
        return dict(reply)

    def close(self) -> None:
        self.sock.close()


def stream_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def control_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def memfd(name: str) -> int:
    return os.memfd_create(name, os.MFD_CLOEXEC)

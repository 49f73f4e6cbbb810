"""Platform side of the IPC with environment and template processes.

Wire format: ``bootstrap/framing.py`` (length-prefixed msgpack on stream sockets for
environments, one msgpack message per packet on ``SOCK_SEQPACKET`` for templates). No HTTP and
no thread hop: the invoking thread writes the request and reads the answer itself.

An environment channel is also usable from an event loop (``send_async``/``recv_async``: the
socket turns non-blocking and the loop waits for it), so a warm Invoke served by the gateway
never leaves the loop. The two modes share one socket but never one frame: every exchange is one
request and one reply, and a reader that gives up mid-frame (timeout, cancellation) is always
followed by the environment's kill, so neither reader ever holds a partial frame the other needs.
"""

from __future__ import annotations

import asyncio
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

    __slots__ = ("_abuf", "_fd", "_poll", "_reader", "_timeout", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._fd = sock.fileno()
        self._reader = framing.FrameReader(sock)
        self._abuf: bytes | bytearray = b""
        """``recv_async``'s partial frame (empty between exchanges)."""
        self._timeout: float | None = -1.0
        """The socket's timeout as last set here (0.0: non-blocking, for the event loop)."""
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
                if self._timeout == 0.0:  # left non-blocking by the event loop's side
                    self.sock.settimeout(None)
                    self._timeout = None
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

    # -- the event loop's side ------------------------------------------------------------------

    async def send_async(self, msg: list[Any]) -> None:
        """``send`` without blocking the running event loop (a payload larger than the socket
        buffer is written as the environment reads it)."""
        self._nonblocking()
        data = framing.encode_frame(msg)
        try:
            try:
                sent = os.write(self._fd, data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                loop = asyncio.get_running_loop()
                await loop.sock_sendall(self.sock, memoryview(data)[sent:])
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ChannelClosed from exc

    async def recv_async(self, timeout: float) -> Any:
        """``recv`` on the running event loop: ``TimeoutError`` after ``timeout`` s,
        ``ChannelClosed`` at EOF. After a timeout or a cancellation the channel holds part of a
        frame at most: the caller kills the environment."""
        self._nonblocking()
        if self._abuf:  # never between exchanges; a reply right after the request is not
            msg = self._read_ready()  # there yet either, so no read is tried before the wait
            if msg is not _PENDING:
                return msg
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def on_readable() -> None:
            if done.done():
                return
            try:
                ready = self._read_ready()
            except BaseException as exc:  # ChannelClosed, a bad frame: the awaiting side's
                done.set_exception(exc)
                return
            if ready is not _PENDING:
                done.set_result(ready)

        def on_timeout() -> None:
            if not done.done():
                done.set_exception(TimeoutError())

        loop.add_reader(self._fd, on_readable)
        timer = loop.call_later(timeout, on_timeout)
        try:
            return await done
        finally:
            timer.cancel()
            loop.remove_reader(self._fd)

    def _nonblocking(self) -> None:
        if self._timeout != 0.0:
            self.sock.settimeout(0.0)
            self._timeout = 0.0

    def _read_ready(self) -> Any:
        """A whole frame from what the socket holds now, or ``_PENDING`` (the part read so far
        is kept). The common case, one ``recv`` holding exactly one frame, copies nothing."""
        buf = self._abuf
        while True:
            have = len(buf)
            want = 1 << 16
            if have >= 4:
                n = int.from_bytes(buf[:4], "big")
                if n > framing.MAX_FRAME:
                    raise ValueError(f"frame of {n} bytes is over the limit")
                end = 4 + n
                if have >= end:
                    self._abuf = buf[end:] if have > end else b""
                    return framing.unpack(memoryview(buf)[4:end])
                want = max(want, end - have)
            try:
                chunk = self.sock.recv(want)
            except BlockingIOError:
                self._abuf = buf
                return _PENDING
            except ConnectionResetError as exc:
                raise ChannelClosed from exc
            if not chunk:
                raise ChannelClosed
            if not buf:
                buf = chunk
            else:
                if isinstance(buf, bytes):  # a frame in several reads: grow in place
                    buf = bytearray(buf)
                buf += chunk

    def readable(self) -> bool:
        """Whether something (data or EOF) is waiting: an idle environment never writes, so
        for one that is idle this means it died."""
        try:
            return bool(self._poll.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.sock.close()


_PENDING: Any = object()
"""``Channel._read_ready``: no whole frame yet."""


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

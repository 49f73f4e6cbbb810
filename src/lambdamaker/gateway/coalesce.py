"""One socket write per response: uvicorn's httptools protocol with its writes coalesced.

uvicorn writes a response's status line and headers when the app sends
``http.response.start`` and its body when the app sends ``http.response.body``: two
``transport.write`` calls, and uvloop sends each at once, so every small response costs two
``send`` system calls (and the client two wake-ups) where one would do. In a GIL profile of a
DynamoDB GetItem the two writes were the largest single item of the server's CPU.

``CoalescingHttpToolsProtocol`` hands uvicorn a transport whose ``write`` only queues the bytes
and flushes everything queued with one ``writelines`` (one ``writev``) at the end of the
current event-loop iteration. The headers and the body an app sends in one step of its task
leave together; nothing else changes.

Invariants:

- Bytes leave in the order they were written, all of them, before any ``close``,
  ``write_eof`` or ``abort`` takes effect (``abort`` drops them, as it drops the transport's
  own buffer).
- A write is delayed by at most one loop iteration; flow control is the real transport's
  (``pause_writing`` still reaches the protocol, one iteration later at worst).
- Everything other than writing is the real transport's, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport proxy whose writes leave together at the end of the loop iteration."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data) if not isinstance(data, bytes) else data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if self._transport.is_closing():
            return
        if len(pending) == 1:
            self._transport.write(pending[0])
        else:
            self._transport.writelines(pending)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(b) for b in self._pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        real = cast(asyncio.Transport, transport)
        super().connection_made(cast(asyncio.Transport, CoalescingTransport(real, self.loop)))

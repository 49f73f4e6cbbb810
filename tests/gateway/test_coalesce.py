"""gateway.coalesce: a response's writes leave in one socket write, in order, complete."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn

from lambdamaker.gateway.coalesce import CoalescingHttpToolsProtocol, CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, chunks: list[bytes]) -> None:
        self.calls.append(("writelines", list(chunks)))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


def test_writes_of_one_loop_iteration_leave_together_in_order() -> None:
    async def main() -> list[tuple[str, Any]]:
        real = FakeTransport()
        t = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"head")
        t.write(b"")
        t.write(bytearray(b"body"))
        assert real.calls == []
        assert t.get_write_buffer_size() == 7 + 8
        await asyncio.sleep(0)
        t.write(b"next")
        await asyncio.sleep(0)
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)
        return real.calls

    calls = asyncio.run(main())
    assert calls == [("writelines", [b"head", b"body"]), ("write", b"next")]


def test_close_and_write_eof_send_what_is_queued_first_and_abort_drops_it() -> None:
    async def main() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        loop = asyncio.get_running_loop()
        real = FakeTransport()
        t = CoalescingTransport(real, loop)  # type: ignore[arg-type]
        t.write(b"a")
        t.write_eof()
        t.write(b"b")
        t.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left
        other = FakeTransport()
        u = CoalescingTransport(other, loop)  # type: ignore[arg-type]
        u.write(b"c")
        u.abort()
        await asyncio.sleep(0)
        return real.calls, other.calls

    closed, aborted = asyncio.run(main())
    assert closed == [("write", b"a"), ("write_eof", None), ("write", b"b"), ("close", None)]
    assert aborted == [("abort", None)]


async def _echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        if name.lower() == b"transfer-encoding":
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return lines[0], body
            body += chunk[:-2]
    assert length is not None
    return lines[0], await reader.readexactly(length)


def test_uvicorn_over_the_coalescing_protocol_serves_keep_alive_streams_and_close() -> None:
    async def main() -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            _echo_app,
            http=CoalescingHttpToolsProtocol,
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for payload in (b"hello", b"x" * 300_000, b""):
                writer.write(
                    b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                status, body = await _read_response(reader)
                assert status == b"HTTP/1.1 200 OK"
                assert body == payload
            writer.write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            status, body = await _read_response(reader)
            assert body == b"one,two,three"
            writer.write(b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            status, body = await _read_response(reader)
            assert (status, body) == (b"HTTP/1.1 200 OK", b"")
            assert await reader.read() == b""  # the server closed after writing everything
            writer.close()
        finally:
            server.should_exit = True
            await task

    asyncio.run(main())

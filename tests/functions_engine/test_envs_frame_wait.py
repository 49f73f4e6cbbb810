"""FrameReader waiting in poll before each receive (as an environment reads): whole frames from
split writes, frames larger than one read, two frames in one read, and None at end of stream."""

from __future__ import annotations

import socket
import threading
import time

from lambdamaker.engines.functions.bootstrap import framing


def test_waiting_reader_reads_what_a_plain_reader_reads() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    reader = framing.FrameReader(b, wait_readable=True)
    small = framing.encode_frame([framing.INVOKE, "r1", b"x" * 100])
    large = framing.encode_frame([framing.INVOKE, "r2", b"y" * 300_000])
    pair = framing.encode_frame([1, "a"]) + framing.encode_frame([2, "b"])

    def write() -> None:
        a.sendall(small[:3])  # not even the length yet
        time.sleep(0.05)
        a.sendall(small[3:])
        a.sendall(large)
        a.sendall(pair)
        time.sleep(0.05)
        a.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert reader.read() == [framing.INVOKE, "r1", b"x" * 100]
        assert reader.read() == [framing.INVOKE, "r2", b"y" * 300_000]
        assert reader.read() == [1, "a"]
        assert reader.read() == [2, "b"]
        assert reader.read() is None
    finally:
        writer.join()
        b.close()

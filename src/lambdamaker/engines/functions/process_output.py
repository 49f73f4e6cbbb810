"""A child process's output as log lines, and its exit, watched by one thread.

The child writes stdout and stderr into one pipe, so their interleaving is kept as the process
produced it. One thread per process polls two descriptors: the pipe's read end and a pidfd of the
process, so an exit is noticed at once without a second waiting thread or a polling interval.

Ordering with invocations: everything a runtime printed before it posted its ``/response`` is
already in the pipe when the response arrives, so the invoking thread calls ``drain()`` (a
non-blocking read under the pump's lock) and has every line of the invocation before it writes
END and REPORT. Both threads read under the same lock, so lines are delivered once, in order.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from collections.abc import Callable

MAX_EVENT_BYTES = 256 * 1024
"""CloudWatch's largest log event; a longer line is split, as Lambda splits it."""

LogEvents = list[tuple[int, str]]


class OutputPump:
    def __init__(
        self,
        read_fd: int,
        pidfd: int,
        *,
        on_lines: Callable[[LogEvents], None],
        on_exit: Callable[[], None],
        name: str = "output-pump",
    ) -> None:
        """``on_lines`` gets (epoch ms, ``line + "\\n"``) events and runs under ``lock``;
        ``on_exit`` runs on the pump thread once the process has exited (after a last drain)."""
        os.set_blocking(read_fd, False)
        self._fd = read_fd
        self._pidfd = pidfd
        """Readable once the process has exited: a pidfd, or any descriptor with that meaning
        (see ``exit_descriptor``)."""
        self._on_lines = on_lines
        self._on_exit = on_exit
        self._partial = bytearray()
        self._eof = False
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> OutputPump:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def close(self) -> None:
        """Close the read end. Under the lock, so a concurrent ``drain`` never reads a
        descriptor number the OS has already handed to another file."""
        with self.lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                self._eof = True

    def drain(self, *, flush_partial: bool = False) -> None:
        with self.lock:
            self.drain_locked(flush_partial=flush_partial)

    def drain_locked(self, *, flush_partial: bool = False) -> None:
        """``drain`` for a caller that holds ``lock``. ``flush_partial`` also delivers a last
        line that has no newline yet (the end of an invocation, or of the process)."""
        events: LogEvents = []
        while not self._eof:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                self._eof = True
                break
            if not data:
                self._eof = True
                break
            self._split(data, events)
        if flush_partial and self._partial:
            events.append((_now_ms(), self._partial.decode("utf-8", "replace") + "\n"))
            self._partial.clear()
        if events:
            self._on_lines(events)

    def _split(self, data: bytes, events: LogEvents) -> None:
        now = _now_ms()
        buf = self._partial
        buf += data
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            events.extend(_chunks(buf[start:end], now))
            start = end + 1
        del buf[:start]
        while len(buf) >= MAX_EVENT_BYTES:
            events.append((now, buf[:MAX_EVENT_BYTES].decode("utf-8", "replace") + "\n"))
            del buf[:MAX_EVENT_BYTES]

    def _run(self) -> None:
        poller = select.poll()
        fd_out = self._fd
        poller.register(fd_out, select.POLLIN)
        poller.register(self._pidfd, select.POLLIN)
        while True:
            for fd, _ in poller.poll():
                if fd == self._pidfd:
                    self.drain(flush_partial=True)
                    self._on_exit()
                    return
                self.drain()
                if self._eof:
                    poller.unregister(fd_out)


def _chunks(line: bytes | bytearray, now: int) -> LogEvents:
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) <= MAX_EVENT_BYTES:
        return [(now, line.decode("utf-8", "replace") + "\n")]
    return [
        (now, line[i : i + MAX_EVENT_BYTES].decode("utf-8", "replace") + "\n")
        for i in range(0, len(line), MAX_EVENT_BYTES)
    ]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def exit_descriptor(process: subprocess.Popen[bytes]) -> int:
    """A descriptor that becomes readable when ``process`` exits: its pidfd (Linux 5.3+), or on
    older kernels the read end of a pipe a waiter thread writes to after ``wait()``."""
    try:
        return os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        pass
    read_fd, write_fd = os.pipe()

    def wait() -> None:
        process.wait()
        os.write(write_fd, b"x")
        os.close(write_fd)

    threading.Thread(target=wait, name="exit-waiter", daemon=True).start()
    return read_fd

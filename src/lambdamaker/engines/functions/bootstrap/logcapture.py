"""An environment's log output, kept where the platform can read it even after a crash.

Two memfds, both created by the platform and shared with the environment:

- the *record* file holds framed records (int64 epoch ms, uint32 length, UTF-8 text): one per
  line printed to ``sys.stdout``/``sys.stderr`` and one per ``logging`` record, each with the
  time it was written (CloudWatch keeps a timestamp per event);
- the *raw* file is the process's fds 1 and 2, for output that bypasses Python (C extensions,
  subprocesses). It is turned into records at the end of each invocation.

At the end of an invocation the environment reports how many record bytes it wrote; the
platform ``pread``s them, so a silent invocation costs no log I/O at all. When a process dies
mid-invocation (timeout, OOM, crash) the platform reads both files as they are: what the
handler printed before it died is kept, as on Lambda.

``logging`` gets Lambda's text format: ``[LEVEL]\\t<UTC time>.<ms>Z\\t<request id>\\t<message>``
(awslambdaric's ``LambdaLoggerHandler``), one event per record; stdout is split into lines.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import time

HEADER = struct.Struct("<qI")
MAX_EVENT_BYTES = 256 * 1024
"""CloudWatch's largest event: a longer line is split into several, as Lambda splits it."""
MAX_INVOCATION_BYTES = 32 << 20
"""Beyond this much log output in one invocation, lines are dropped (and the drop is logged):
the files live in memory, charged to the environment."""
_ERROR_INDENT = "\u00a0"  # awslambdaric indents error stack traces with no-break spaces


class RecordLog:
    """Appends records to the record memfd; ``begin()`` starts a new invocation."""

    def __init__(self, fd: int, raw_fd: int) -> None:
        self.fd = fd
        self.raw_fd = raw_fd
        self.offset = 0
        self.dropped = 0

    def reattach(self, fd: int, raw_fd: int) -> None:
        """Use another pair of files (a snapshot's child gets its own)."""
        self.fd, self.raw_fd, self.offset = fd, raw_fd, 0

    def write(self, text: str, ts_ms: int | None = None) -> None:
        data = text.encode("utf-8", "replace")
        if ts_ms is None:
            ts_ms = time.time_ns() // 1_000_000
        if self.offset + len(data) > MAX_INVOCATION_BYTES:
            self.dropped += len(data)
            return
        if len(data) > MAX_EVENT_BYTES:
            for i in range(0, len(data), MAX_EVENT_BYTES):
                chunk = data[i : i + MAX_EVENT_BYTES]
                self._append(HEADER.pack(ts_ms, len(chunk)) + chunk)
            return
        self._append(HEADER.pack(ts_ms, len(data)) + data)

    def _append(self, record: bytes) -> None:
        os.write(self.fd, record)
        self.offset += len(record)

    def begin(self) -> None:
        if self.offset:
            os.ftruncate(self.fd, 0)
            os.lseek(self.fd, 0, os.SEEK_SET)
            self.offset = 0
        self.dropped = 0

    def end(self) -> None:
        """Say what was dropped, if anything (fits: the budget leaves room for this line)."""
        if self.dropped:
            note = f"[lambdamaker] {self.dropped} bytes of log output over the limit were dropped\n"
            data = note.encode()
            self._append(HEADER.pack(time.time_ns() // 1_000_000, len(data)) + data)
            self.dropped = 0

    def collect_raw(self) -> None:
        """Turn what was written to fds 1/2 since the last call into records."""
        size = os.fstat(self.raw_fd).st_size
        if not size:
            return
        data = os.pread(self.raw_fd, size, 0)
        os.ftruncate(self.raw_fd, 0)
        os.lseek(self.raw_fd, 0, os.SEEK_SET)
        now = time.time_ns() // 1_000_000
        for line in data.decode("utf-8", "replace").splitlines():
            self.write(line + "\n", now)


def read_records(data: bytes) -> list[tuple[int, str]]:
    """Parse a record file's bytes (tolerates a torn last record)."""
    events: list[tuple[int, str]] = []
    pos, end = 0, len(data)
    size = HEADER.size
    while pos + size <= end:
        ts, n = HEADER.unpack_from(data, pos)
        pos += size
        if pos + n > end:
            break
        events.append((ts, data[pos : pos + n].decode("utf-8", "replace")))
        pos += n
    return events


class LineWriter(io.TextIOBase):
    """``sys.stdout``/``sys.stderr``: each complete line becomes one record."""

    def __init__(self, log: RecordLog, fileno: int, name: str) -> None:
        super().__init__()
        self._log = log
        self._fileno = fileno
        self._partial = ""
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fileno

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if "\n" not in s:
            self._partial += s
            return len(s)
        text = self._partial + s
        cut = text.rfind("\n") + 1
        self._partial = text[cut:]
        now = time.time_ns() // 1_000_000
        write = self._log.write
        for line in text[:cut].splitlines():
            write(line + "\n", now)
        return len(s)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        """End of an invocation: a last line without a newline is still one event."""
        if self._partial:
            self._log.write(self._partial + "\n")
            self._partial = ""


class LambdaLogHandler(logging.Handler):
    """The root logger's handler, as the Lambda Python runtime installs it."""

    def __init__(self, log: RecordLog) -> None:
        super().__init__()
        self.log = log
        self.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
        self.addFilter(_RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log.write(self.format(record))
        except Exception:
            self.handleError(record)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _RequestIdFilter.request_id
        return True


def set_request_id(request_id: str) -> None:
    _RequestIdFilter.request_id = request_id


def install(log: RecordLog) -> tuple[LineWriter, LineWriter]:
    """Route stdout, stderr and the root logger into ``log``."""
    import sys

    out = LineWriter(log, 1, "<stdout>")
    err = LineWriter(log, 2, "<stderr>")
    sys.stdout = out
    sys.stderr = err
    setattr(sys, "__stdout__", out)  # noqa: B010 (typeshed marks these Final)
    setattr(sys, "__stderr__", err)  # noqa: B010
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(LambdaLogHandler(log))
    return out, err


def error_lines(error: dict[str, object]) -> str:
    """awslambdaric's ``log_error`` text form: one event, stack indented with no-break spaces."""
    head = "[ERROR]"
    kind, message = error.get("errorType"), error.get("errorMessage")
    if kind:
        head += f" {kind}"
    if message:
        head += (":" if kind else "") + f" {message}"
    lines = [head]
    stack = error.get("stackTrace")
    if isinstance(stack, list):
        lines.append("Traceback (most recent call last):")
        for element in stack:
            for line in str(element).splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(_ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines) + "\n"

"""A clock for tests of time logic: providers take a ``clock`` callable (seconds since the
epoch), and a test moves ``now`` instead of sleeping."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move forward by ``seconds`` plus a ``timedelta(**delta)`` (minutes=..., days=...)."""
        self.now += seconds + timedelta(**delta).total_seconds()

    def set(self, moment: datetime | float) -> None:
        self.now = moment.timestamp() if isinstance(moment, datetime) else float(moment)

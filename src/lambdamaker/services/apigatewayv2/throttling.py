"""Request throttling for HTTP APIs: token buckets per account, per stage and per route.

Pure and cheap (no SQL, no locks: the serving event loop is the only caller).

Invariants:
- A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second; a request
  takes one token from each applicable bucket, or is refused (429) without taking any.
- Applicable buckets: the account's (10,000 rps, burst 5,000, AWS's default), the stage's
  (``DefaultRouteSettings``) and the route's (``RouteSettings[routeKey]``, which replaces the
  stage default for that route). A limit left unset is not enforced at that level.
- Buckets outlive configuration reloads; one whose limits changed starts again full.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

ACCOUNT_RATE = 10_000.0
ACCOUNT_BURST = 5_000


class TokenBucket:
    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def available(self, now: float) -> bool:
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


def limits(settings: dict[str, Any] | None) -> tuple[float, int] | None:
    """(rate, burst) from a RouteSettings shape, or None if neither is set."""
    if not settings:
        return None
    rate = settings.get("ThrottlingRateLimit")
    burst = settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return None
    rate_value = float(rate) if rate is not None else ACCOUNT_RATE
    burst_value = int(burst) if burst is not None else ACCOUNT_BURST
    return rate_value, burst_value


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}

    def _bucket(self, key: tuple[str, ...], rate: float, burst: int, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = self._buckets[key] = TokenBucket(rate, burst, now)
        return bucket

    def admit(
        self,
        account: str,
        stage_key: tuple[str, str],
        route_key: str,
        stage_limits: tuple[float, int] | None,
        route_limits: tuple[float, int] | None,
    ) -> bool:
        """Whether the request may go ahead (and if so, its tokens are taken)."""
        now = self.clock()
        chosen = [self._bucket((account,), ACCOUNT_RATE, ACCOUNT_BURST, now)]
        if route_limits is not None:
            chosen.append(self._bucket((*stage_key, route_key), *route_limits, now))
        elif stage_limits is not None:
            chosen.append(self._bucket(stage_key, *stage_limits, now))
        if not all(bucket.available(now) for bucket in chosen):
            return False
        for bucket in chosen:
            bucket.take()
        return True

    def forget(self, api_id: str) -> None:
        """Drop an API's buckets (the API was deleted)."""
        for key in [k for k in self._buckets if len(k) > 1 and k[0] == api_id]:
            del self._buckets[key]

"""What every service provider shares: the request context and the operation dispatch.

A provider translates one AWS service's API shapes into store and engine calls. It receives the
operation's input as a plain dict (botocore member names; str, int, float, bool, bytes,
datetime, list, dict, or a ``Body`` for a streaming payload) and returns the output as a dict of
the same kind. It raises ``errors.ServiceError`` subclasses for anything a user can trigger.
Providers never see HTTP, XML or JSON: the gateway's protocol layer owns the wire.

An operation is a method named as botocore names it in Python (``PutObject`` -> ``put_object``),
taking ``(ctx, params)``. A missing method means "not implemented", which the gateway reports
with the operation's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from botocore import xform_name

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.store.migrations import Migration


@dataclass
class Principal:
    """Who signed the request. Filled by authentication; read by the authorize hook."""

    arn: str
    account_id: str
    access_key_id: str | None = None
    user_id: str = ""
    session_token: str | None = None


@dataclass
class RequestContext:
    request_id: str
    service: str
    operation: str
    region: str
    account_id: str
    principal: Principal | None = None
    endpoint_url: str = ""
    """Where the client reached us (``http://127.0.0.1:4599``), for URLs in responses."""
    headers: dict[str, str] = field(default_factory=dict)
    """The raw request headers (lower-case). Rarely needed: the model maps headers to params."""


Operation = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
"""A provider operation. Coroutine operations have the same shape with ``async def``; the gateway
tells them apart once per operation."""


class Provider:
    """Base of every service provider."""

    service: ClassVar[str]
    """botocore's service name: ``s3``, ``iam``, ``sts``, ``lambda``..."""

    inline_operations: ClassVar[frozenset[str]] = frozenset()
    """Operations cheap and non-blocking enough (a metadata read, no fsync, bounded output) to
    run on the event loop. An operation written as a coroutine function (``async def``) is
    awaited on the loop too. Everything else runs in a worker thread; the hop costs more than a
    small SQLite read, so the hottest paths skip it."""

    migrations: ClassVar[Sequence[Migration]] = ()
    """This provider's versioned schema migrations, applied by the platform at start-up."""

    closes_first: ClassVar[bool] = False
    """Shut down before the other providers: a provider whose running work calls the others
    (Step Functions' executions invoke functions, send messages...) stops that work while the
    services it calls are still up, so an in-flight task is interrupted (and resumed after a
    restart) rather than failed by a half-closed service."""

    serves_in_workers: ClassVar[bool] = False
    """Whether the server's data-plane workers (``lambdamaker.workers``) serve this service too.
    Only a service whose whole state is in the store qualifies: every request commits before it
    answers, sequence numbers and counters come from the store, caches follow the shared epochs
    (``store.epochs``), and no in-process wake-up or background task depends on its requests.
    Workers call ``start_worker()`` instead of ``start()``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def start(self) -> None:
        """Called once after migrations, before the first request (recovery, sweeps)."""

    def start_worker(self) -> None:
        """Called instead of ``start()`` in a data-plane worker: no recovery, no sweeps (the
        primary runs those)."""

    def close(self) -> None:
        """Called once at shutdown."""

    def operation(self, name: str) -> Operation | None:
        method = getattr(self, xform_name(name), None)
        return method if callable(method) else None

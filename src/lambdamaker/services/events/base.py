"""What EventBridge's operation mixins share at run time: the delivery machinery.

``EventsBase`` owns the rule cache, the router, the delivery dispatcher and the rule scheduler
(built in ``__init__``, started by ``start()``, stopped by ``close()``). Operations that change
rules or targets call ``rules_changed(conn)``: after their commit the cache is invalidated and
the scheduler re-plans. Tests may replace ``scheduler`` (before ``Platform.start()``) with one
driven by a fake clock (``RuleScheduler(..., threaded=False)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from lambdamaker.services.base import Provider
from lambdamaker.services.events.dispatch import Dispatcher
from lambdamaker.services.events.routing import Router, RuleCache
from lambdamaker.services.events.scheduler import RuleScheduler
from lambdamaker.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class EventsBase(Provider):
    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.cache = RuleCache()
        self.router = Router(platform)
        self.dispatcher = Dispatcher(platform.store, self.router, self.cache)
        # PutEvents of concurrent callers share one transaction (one fsync).
        self.committer: GroupCommitter = platform.committer
        self.scheduler = RuleScheduler(platform.store, self.router)

    def start(self) -> None:
        self.dispatcher.start()
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.close()
        self.dispatcher.close()

    def rules_changed(self, conn: Connection) -> None:
        self.platform.store.after_commit(conn, self._after_rules_change)

    def _after_rules_change(self) -> None:
        self.cache.invalidate()
        self.scheduler.notify()

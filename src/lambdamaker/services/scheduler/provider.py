"""``SchedulerProvider``: EventBridge Scheduler (rest-json, ``scheduler``) over the store.

Supported: CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules
(``schedules``); CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup, ListScheduleGroups,
TagResource, UntagResource, ListTagsForResource for groups (``groups``). The loop (``loop``)
fires schedules into SQS, SNS, Lambda and EventBridge targets through ``services.deliver``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from lambdamaker.services.scheduler.loop import SchedulerLoop
from lambdamaker.services.scheduler.schedules import ScheduleOperations
from lambdamaker.services.scheduler.tables import MIGRATIONS
from lambdamaker.store import Migration

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class SchedulerProvider(ScheduleOperations):
    service = "scheduler"
    migrations: ClassVar[tuple[Migration, ...]] = MIGRATIONS

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.loop = SchedulerLoop(platform)

    def start(self) -> None:
        self.loop.start()

    def close(self) -> None:
        self.loop.close()

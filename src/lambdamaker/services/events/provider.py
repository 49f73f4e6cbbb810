"""``EventsProvider``: EventBridge (json protocol, ``AWSEvents``) over the store.

Supported: CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses (``buses``);
PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, TestEventPattern
(``rules``, patterns compiled by ``engines.events.patterns``); PutTargets, RemoveTargets,
ListTargetsByRule (``targets``); PutEvents (``put_events``, events committed to a durable
log); ``put_from``/``forward`` (``inbound``, events from inside the platform).

Delivery (``base``): the dispatcher (``dispatch``) routes committed events to the targets of
matching rules (``routing``: SQS, SNS, Lambda async, another bus; input shaping; RetryPolicy,
DeadLetterConfig); the scheduler (``scheduler``) fires scheduled rules. Not yet: Step
Functions and other target types (failed deliveries), tags, permissions, archives, replays,
connections and API destinations.
"""

from __future__ import annotations

from typing import ClassVar

from lambdamaker.services.events.buses import BusOperations
from lambdamaker.services.events.inbound import InboundOperations
from lambdamaker.services.events.put_events import PutEventsOperations
from lambdamaker.services.events.rules import RuleOperations
from lambdamaker.services.events.tables import MIGRATIONS
from lambdamaker.services.events.targets import TargetOperations
from lambdamaker.store import Migration


class EventsProvider(
    InboundOperations, PutEventsOperations, TargetOperations, RuleOperations, BusOperations
):
    service = "events"
    migrations: ClassVar[tuple[Migration, ...]] = MIGRATIONS

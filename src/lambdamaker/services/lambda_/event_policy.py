"""The effective async policy of a (function, qualifier) and the dispatcher's cache of it.

Invariants:
- Stored configs keep only what a caller set; ``EventConfig`` applies Lambda's defaults
  (2 retries, 6 hours) and treats an empty destination ARN as none.
- ``ConfigCache`` serves configs from memory and is dropped whole whenever any stored config
  may have changed (``configs_changed``, called by every writer of ``lambda_event_configs``
  when the change is made and again after it commits), so a cached entry is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.tables import event_configs
from lambdamaker.store import Store

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600


@dataclass(frozen=True)
class EventConfig:
    """The effective async policy of one (function, qualifier)."""

    max_retries: int = DEFAULT_RETRIES
    max_age_s: int = DEFAULT_MAX_AGE_S
    on_success: str | None = None
    on_failure: str | None = None

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> EventConfig:
        destinations = stored.get("DestinationConfig") or {}
        return cls(
            max_retries=stored.get("MaximumRetryAttempts", DEFAULT_RETRIES),
            max_age_s=stored.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
            on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
        )


SELECT_CONFIG = sa.select(event_configs.c.config).where(
    event_configs.c.function_name == sa.bindparam("name"),
    event_configs.c.qualifier == sa.bindparam("qualifier"),
)


class _Generation:
    """Counts changes to any stored event invoke config (in any platform of this process):
    the dispatcher's cache of configs (``ConfigCache``) keeps an entry only while it is
    unchanged. Bumped when a change is made and again after its commit, so a read racing a
    change is never kept."""

    value = 0


def bump_generation() -> None:
    _Generation.value += 1


def configs_changed(store: Store, conn: Connection) -> None:
    """A change to stored configs is being made on ``conn``: drop cached configs now and again
    once the change is visible."""
    bump_generation()
    store.after_commit(conn, bump_generation)


class ConfigCache:
    """The dispatcher reads an event's config before every attempt: from memory, not SQL."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._entries: dict[tuple[str, str | None], EventConfig] = {}
        self._generation = _Generation.value

    def get(self, name: str, qualifier: str | None) -> EventConfig:
        generation = _Generation.value
        if generation != self._generation:
            self._entries = {}
            self._generation = generation
        config = self._entries.get((name, qualifier))
        if config is None:
            with self.store.read() as conn:
                config = load_event_config(conn, name, qualifier)
            if generation == _Generation.value:
                if len(self._entries) > 10_000:
                    self._entries = {}
                self._entries[(name, qualifier)] = config
        return config


def load_event_config(conn: Connection, name: str, qualifier: str | None) -> EventConfig:
    stored = conn.execute(SELECT_CONFIG, {"name": name, "qualifier": qualifier or LATEST}).scalar()
    return EventConfig.from_stored(orjson.loads(stored)) if stored is not None else EventConfig()

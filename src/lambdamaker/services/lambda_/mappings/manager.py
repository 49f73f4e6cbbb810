"""``MappingManager``: one poller per enabled event source mapping, kept in step with the table.

Invariants:

- ``sync(uuid)`` makes the running pollers agree with the row: a mapping in ``Creating`` or
  ``Updating`` settles to ``Enabled`` or ``Disabled``; an enabled mapping has exactly one
  poller (started, or handed the new settings through ``update``); a disabled or deleted one
  has none. It is called at start for every row and after every API change.
- Pollers by source kind: ``sqs`` -> ``sqs_source.SqsPoller``; ``kinesis`` / ``dynamodb`` ->
  ``stream_poller.StreamPoller``.
- Stopping a poller lets the invocation in flight finish and commit, which may take as long as
  the function's timeout: API calls wait for it at most ``STOP_WAIT_S``, the rest goes on in a
  thread. A mapping never has two pollers at once: a new poller for a mapping whose old one is
  still stopping waits for it first.
- ``record_result`` writes ``LastProcessingResult`` only when it changes (a busy mapping does
  not write its row after every batch).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from lambdamaker.services.lambda_.mappings.config import mapping_of
from lambdamaker.services.lambda_.mappings.model import Mapping
from lambdamaker.services.lambda_.mappings.sources import stream_source
from lambdamaker.services.lambda_.mappings.sqs_source import SqsPoller
from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller
from lambdamaker.services.lambda_.mappings.tables import esm_checkpoints, esm_mappings

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.provider import LambdaProvider

log = logging.getLogger("lambdamaker.lambda")

STOP_WAIT_S = 2.0


class Poller(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def update(self, mapping: Mapping) -> None: ...


class MappingManager:
    def __init__(self, provider: LambdaProvider) -> None:
        self.provider = provider
        self._lock = threading.RLock()
        self._pollers: dict[str, Poller] = {}
        self._kinds: dict[str, str] = {}
        self._results: dict[str, str] = {}
        self._stopping: dict[str, threading.Thread] = {}
        self._closed = False

    def start(self) -> None:
        with self.provider.store.begin() as conn:
            # A delete interrupted by a crash: finish it (its poller is long gone).
            gone = sa.select(esm_mappings.c.uuid).where(esm_mappings.c.state == "Deleting")
            conn.execute(sa.delete(esm_checkpoints).where(esm_checkpoints.c.uuid.in_(gone)))
            conn.execute(sa.delete(esm_mappings).where(esm_mappings.c.state == "Deleting"))
            uuids = list(conn.execute(sa.select(esm_mappings.c.uuid)).scalars())
        for mapping_uuid in uuids:
            try:
                self.sync(mapping_uuid)
            except Exception:  # one bad mapping must not keep Lambda from starting
                log.exception("lambda: could not start event source mapping %s", mapping_uuid)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()

    def sync(self, mapping_uuid: str) -> None:
        store = self.provider.store
        with self._lock:
            if self._closed:
                return
            with store.read() as conn:
                row = conn.execute(
                    sa.select(esm_mappings).where(esm_mappings.c.uuid == mapping_uuid)
                ).first()
            if row is None or row.state == "Deleting":
                self._retire_locked(mapping_uuid)
                return
            mapping = mapping_of(row, self.provider.platform.config.region)
            if row.state in ("Creating", "Updating"):
                with store.begin() as conn:
                    conn.execute(
                        sa.update(esm_mappings)
                        .where(esm_mappings.c.uuid == mapping_uuid)
                        .values(state="Enabled" if mapping.enabled else "Disabled")
                    )
            if not mapping.enabled:
                self._retire_locked(mapping_uuid)
                return
            poller = self._pollers.get(mapping_uuid)
            if poller is not None and self._kinds.get(mapping_uuid) == mapping.kind:
                poller.update(mapping)
                return
            self._retire_locked(mapping_uuid)
            stopping = self._stopping.get(mapping_uuid)
            if stopping is not None:
                stopping.join()  # never two pollers of one mapping
            poller = self._new_poller(mapping)
            if poller is None:
                return
            self._pollers[mapping_uuid] = poller
            self._kinds[mapping_uuid] = mapping.kind
            poller.start()

    def stop(self, mapping_uuid: str, then: Callable[[], None] | None = None) -> None:
        """Stop the mapping's poller, then run ``then`` (waits at most ``STOP_WAIT_S``)."""
        with self._lock:
            self._retire_locked(mapping_uuid, then)

    def _retire_locked(self, mapping_uuid: str, then: Callable[[], None] | None = None) -> None:
        poller = self._pollers.pop(mapping_uuid, None)
        self._kinds.pop(mapping_uuid, None)
        self._results.pop(mapping_uuid, None)
        if poller is None and then is None:
            return
        previous = self._stopping.get(mapping_uuid)

        def run() -> None:
            try:
                if previous is not None:
                    previous.join()
                if poller is not None:
                    poller.stop()
                if then is not None:
                    then()
            except Exception:
                log.exception("lambda: stopping event source mapping %s failed", mapping_uuid)
            finally:
                # Not under the lock: sync() may hold it while it waits for this thread.
                if self._stopping.get(mapping_uuid) is thread:
                    self._stopping.pop(mapping_uuid, None)

        thread = threading.Thread(target=run, name=f"esm-stop-{mapping_uuid[:8]}", daemon=True)
        self._stopping[mapping_uuid] = thread
        thread.start()
        thread.join(STOP_WAIT_S)

    def _new_poller(self, mapping: Mapping) -> Poller | None:
        if mapping.kind == "sqs":
            return SqsPoller(self.provider, mapping, self.record_result)
        source = stream_source(self.provider.platform, mapping.kind, mapping.source_arn)
        if source is None:
            log.warning(
                "lambda: no source for %s; mapping %s is not polled",
                mapping.source_arn,
                mapping.uuid,
            )
            return None
        return StreamPoller(self.provider, mapping, source)

    def record_result(self, mapping_uuid: str, result: str) -> None:
        """Set the mapping's ``LastProcessingResult`` (a no-op when unchanged)."""
        if self._results.get(mapping_uuid) == result:
            return
        self._results[mapping_uuid] = result
        with self.provider.store.begin() as conn:
            conn.execute(
                sa.update(esm_mappings)
                .where(esm_mappings.c.uuid == mapping_uuid)
                .values(last_result=result)
            )

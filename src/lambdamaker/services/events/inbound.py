"""Events from inside the platform: ``put_from`` (what ``services.deliver`` calls for an
EventBridge ARN: Lambda destinations, S3...) and ``forward`` (a rule target that is another
bus). Both write on the caller's open transaction and wake the dispatcher after its commit; an
unknown bus raises ``ResourceNotFoundException`` and writes nothing."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.events import tables as t
from lambdamaker.services.events.base import EventsBase
from lambdamaker.services.events.buses import bus_exists_in
from lambdamaker.services.events.common import BUS_ARN, bus_not_found


class InboundOperations(EventsBase):
    def _resolve_bus(self, conn: Connection, bus: str) -> tuple[str, str, str]:
        m = BUS_ARN.fullmatch(bus)
        if m is not None:
            region, account, name = m.group(1), m.group(2), m.group(3)
        elif bus.startswith("arn:"):
            raise bus_not_found(bus)
        else:
            config = self.platform.config
            region, account, name = config.region, config.account_id, bus
        if not bus_exists_in(conn, account, region, name):
            raise bus_not_found(name)
        return account, region, name

    def _insert(
        self, conn: Connection, account: str, region: str, bus: str, event_id: str, text: str
    ) -> int:
        result = conn.execute(
            sa.insert(t.events).values(
                event_id=event_id,
                account=account,
                region=region,
                bus=bus,
                event=text,
                created_at=time.time(),
            )
        )
        self.platform.store.after_commit(conn, self.dispatcher.notify)
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def put_from(
        self,
        conn: Connection,
        bus_arn: str,
        *,
        source: str,
        detail_type: str,
        detail: Any,
        resources: list[str] | None = None,
    ) -> str:
        """PutEvents from inside the platform on ``conn``; returns the event id."""
        account, region, bus = self._resolve_bus(conn, bus_arn)
        event_id = str(uuid.uuid4())
        event = {
            "version": "0",
            "id": event_id,
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": list(resources or []),
            "detail": detail,
        }
        self._insert(conn, account, region, bus, event_id, json.dumps(event))
        return event_id

    def forward(self, conn: Connection, bus_arn: str, event_text: str, hops: int) -> None:
        """Put an event on another bus as it is (same id, time, account and detail)."""
        account, region, bus = self._resolve_bus(conn, bus_arn)
        # The row key is fresh: the same event may reach one bus by two routes.
        seq = self._insert(conn, account, region, bus, str(uuid.uuid4()), event_text)
        conn.execute(sa.insert(t.event_hops).values(seq=seq, hops=hops))

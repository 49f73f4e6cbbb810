"""One delivery's outcome, inside the caller's transaction: served, retried later, dead-lettered
or given up, as SNS's retry policies say.

Invariants:
- An SQS/Lambda delivery runs in a savepoint, so a failing subscriber rolls back only its own
  writes, never the other deliveries of the same transaction.
- A failure either leaves exactly one ``sns_deliveries`` row for (message, subscription), with
  the failed tries so far and when the next is due, or none (dead-lettered, or given up and
  logged); a success leaves none.
- Retry delays are SNS's, times ``scale`` (``LAMBDAMAKER_SNS_RETRY_SCALE``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.endpoints import Endpoints, dead_letter_arn, error_text, is_gone
from lambdamaker.services.sns.envelopes import Published

log = logging.getLogger("lambdamaker.sns")

HTTP_PROTOCOLS = ("http", "https")
HTTP_RETRIES = 3
HTTP_RETRY_DELAY = 20.0
"""SNS's default healthy retry policy for http/https: 3 retries, 20 s apart."""
MANAGED_ATTEMPTS = 100_015
"""Tries for AWS-managed endpoints before a delivery is given up (SNS's 23 days)."""


def retry_delay(attempt: int) -> float:
    """Seconds before try ``attempt + 1`` after ``attempt`` failed tries (SNS's policy for
    AWS-managed endpoints)."""
    if attempt < 3:
        return 0.0
    if attempt < 5:
        return 1.0
    if attempt < 15:
        return min(20.0, float(2 ** (attempt - 5)))
    return 20.0


@contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    """A savepoint around one delivery's writes. Plain SQL (SQLite and PostgreSQL alike):
    ``begin_nested()`` compiles its statements anew each time, a cost paid per delivery."""
    conn.exec_driver_sql("SAVEPOINT sns_delivery")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT sns_delivery")
        conn.exec_driver_sql("RELEASE SAVEPOINT sns_delivery")
        raise
    conn.exec_driver_sql("RELEASE SAVEPOINT sns_delivery")


class Attempts:
    """Records outcomes of deliveries made through ``endpoints``."""

    def __init__(self, endpoints: Endpoints, scale: float) -> None:
        self.endpoints = endpoints
        self.scale = scale

    def attempt(
        self,
        conn: Connection,
        published: Published,
        sub: Row[Any],
        attempts: int,
        now: float,
        existing: bool,
    ) -> None:
        """Try an SQS/Lambda delivery; record its outcome in ``conn``'s transaction."""
        try:
            with _savepoint(conn):
                if sub.protocol == "lambda":
                    self.endpoints.to_lambda(conn, published, sub)
                else:
                    self.endpoints.to_sqs(conn, published, sub)
        except Exception as exc:
            self.failed(conn, published, sub, attempts + 1, exc, now, existing)
            return
        if existing:
            self.done(conn, published.seq, sub.arn)

    def failed(
        self,
        conn: Connection,
        published: Published,
        sub: Row[Any],
        attempts: int,
        error: BaseException,
        now: float,
        existing: bool,
    ) -> None:
        http = sub.protocol in HTTP_PROTOCOLS
        exhausted = attempts > HTTP_RETRIES if http else attempts >= MANAGED_ATTEMPTS
        gone = is_gone(error)
        dlq = dead_letter_arn(sub)
        if dlq is not None and (gone or exhausted):
            try:
                with _savepoint(conn):
                    self.endpoints.to_dead_letter(conn, dlq, published, sub)
            except Exception as dlq_error:
                log.warning(
                    "sns: dead-letter queue %s refused %s: %s",
                    dlq,
                    published.message_id,
                    error_text(dlq_error),
                )
            else:
                log.info(
                    "sns: %s for %s moved to %s: %s",
                    published.message_id,
                    sub.arn,
                    dlq,
                    error_text(error),
                )
                if existing:
                    self.done(conn, published.seq, sub.arn)
                return
        if exhausted:
            log.warning(
                "sns: dropped %s for %s after %d tries: %s",
                published.message_id,
                sub.arn,
                attempts,
                error_text(error),
            )
            if existing:
                self.done(conn, published.seq, sub.arn)
            return
        log.info(
            "sns: delivering %s to %s failed: %s", published.message_id, sub.arn, error_text(error)
        )
        delay = HTTP_RETRY_DELAY if http else retry_delay(attempts)
        at = now + delay * self.scale
        self.schedule(conn, published, sub, attempts, at, error_text(error), existing)

    def schedule(
        self,
        conn: Connection,
        published: Published,
        sub: Row[Any],
        attempts: int,
        at: float,
        error: str | None,
        existing: bool,
    ) -> None:
        values = {"attempts": attempts, "next_attempt_at": at, "last_error": error}
        d = t.deliveries
        if existing:
            conn.execute(
                sa.update(d)
                .where(d.c.message_seq == published.seq, d.c.subscription_arn == sub.arn)
                .values(**values)
            )
        else:
            conn.execute(
                sa.insert(d).values(message_seq=published.seq, subscription_arn=sub.arn, **values)
            )

    def done(self, conn: Connection, seq: int, subscription_arn: str) -> None:
        d = t.deliveries
        conn.execute(
            sa.delete(d).where(d.c.message_seq == seq, d.c.subscription_arn == subscription_arn)
        )

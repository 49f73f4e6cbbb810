"""SQL tables of DynamoDB Streams: stream records per table (component ``dynamodb-streams``)."""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration

metadata = sa.MetaData()

MIGRATIONS: list[Migration] = []

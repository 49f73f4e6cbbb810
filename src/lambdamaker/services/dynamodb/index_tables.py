"""SQL tables of secondary index entries (GSIs and LSIs) (component ``dynamodb-indexes``)."""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration

metadata = sa.MetaData()

MIGRATIONS: list[Migration] = []

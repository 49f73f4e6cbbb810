"""(being written)"""

from __future__ import annotations

from lambdamaker.store.migrations import Migration

MIGRATIONS: list[Migration] = []

"""(being written)"""

from __future__ import annotations

from lambdamaker.services.base import Provider


class ExecutionOperations(Provider):
    pass

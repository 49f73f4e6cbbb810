"""(being written)"""

from __future__ import annotations

from lambdamaker.services.base import Provider


class StateMachineOperations(Provider):
    pass

"""EventBridge Scheduler: the ``scheduler`` service provider.

Modules: ``common`` (errors, ARNs, definition validation), ``groups`` and ``schedules`` (the
API), ``timing`` (when a tick fires: flexible windows and the missed-tick policy, pure),
``loop`` (the thread that fires due ticks into ``services.deliver`` in the transaction that
advances the schedule's cursor, retries failures and dead-letters), ``tables``.
"""

from lambdamaker.services.scheduler.provider import SchedulerProvider

__all__ = ["SchedulerProvider"]

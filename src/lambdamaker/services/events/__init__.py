"""EventBridge: the ``events`` service provider (buses, rules, event patterns)."""

from lambdamaker.services.events.provider import EventsProvider

__all__ = ["EventsProvider"]

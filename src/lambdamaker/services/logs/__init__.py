"""CloudWatch Logs: the ``logs`` service provider over ``observability.logs.LogStore``."""

from lambdamaker.services.logs.provider import LogsProvider

__all__ = ["LogsProvider"]

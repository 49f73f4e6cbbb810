"""Amazon SNS: the ``sns`` service provider (topics, subscriptions, filter policies, tags)."""

from lambdamaker.services.sns.provider import SnsProvider

__all__ = ["SnsProvider"]

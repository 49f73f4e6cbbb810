"""Amazon SNS: the ``sns`` service provider (topics, subscriptions, filter policies, tags) and
delivery to SQS, Lambda and http/https subscribers."""

from lambdamaker.services.sns.provider import SnsProvider

__all__ = ["SnsProvider"]

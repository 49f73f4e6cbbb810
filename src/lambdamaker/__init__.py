"""lambdamaker: serverless, event-driven ML workflows on your own machine, over AWS's APIs."""

from lambdamaker._version import __version__
from lambdamaker.config import PlatformConfig
from lambdamaker.errors import LambdamakerError, ServiceError
from lambdamaker.platform import Platform

__all__ = ["LambdamakerError", "Platform", "PlatformConfig", "ServiceError", "__version__"]

"""lambdamaker: serverless, event-driven ML workflows on your own machine, over AWS's APIs.

The names below are imported on first use: function handlers import ``lambdamaker.runtime``
(snapshot hooks) inside execution environments, and must not pay for the whole platform
(SQLAlchemy, botocore models, the server) at init.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lambdamaker._version import __version__

if TYPE_CHECKING:
    from lambdamaker.config import PlatformConfig
    from lambdamaker.errors import LambdamakerError, ServiceError
    from lambdamaker.platform import Platform

__all__ = ["LambdamakerError", "Platform", "PlatformConfig", "ServiceError", "__version__"]

_LAZY = {
    "LambdamakerError": "lambdamaker.errors",
    "Platform": "lambdamaker.platform",
    "PlatformConfig": "lambdamaker.config",
    "ServiceError": "lambdamaker.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambdamaker' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

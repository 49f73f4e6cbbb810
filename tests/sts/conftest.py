"""In-process STS fixtures: a started platform with IAM and STS, and callers for both
(defined once in ``tests/iam_support.py``)."""

from iam_support import iam, platform, sts

__all__ = ["iam", "platform", "sts"]

"""Lambda's quotas and fixed values, as AWS documents them.

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
"""

from __future__ import annotations

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
"""Request payload of a RequestResponse invocation: 6 MB (6,291,456 bytes)."""
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
"""Request payload of an Event invocation: 1 MB (DESIGN.md decision 8)."""
RESPONSE_PAYLOAD_LIMIT = 6291556
"""What Lambda accepts from a function (6 MB plus the 100-byte envelope it allows)."""

ZIPPED_CODE_LIMIT = 50 * 1024 * 1024
"""A ``ZipFile`` uploaded directly in the request."""
CREATE_FUNCTION_REQUEST_LIMIT = 69905067
"""The base64 form of a 50 MB zip plus the JSON around it (AWS's figure)."""
UNZIPPED_CODE_LIMIT = 262144000
"""Function code and all its layers, unzipped: 250 MB."""
TOTAL_CODE_LIMIT = 80530636800
"""Per account: 75 GB."""

MAX_LAYERS = 5
MAX_TAGS = 50
ENVIRONMENT_LIMIT = 4096
"""Bytes of the environment variables as compact JSON (AWS measures it this way)."""
CLIENT_CONTEXT_LIMIT = 3583
"""Bytes of base64 ``ClientContext``."""
LOG_TAIL_BYTES = 4096

MEMORY_RANGE = (128, 10240)
TIMEOUT_RANGE = (1, 900)
EPHEMERAL_RANGE = (512, 10240)
DEFAULT_MEMORY = 128
DEFAULT_TIMEOUT = 3
DEFAULT_EPHEMERAL = 512

MINIMUM_UNRESERVED_CONCURRENCY = 100


PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
PROVIDED_RUNTIMES = ("provided.al2", "provided.al2023")
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES + PROVIDED_RUNTIMES
ARCHITECTURES = ("x86_64", "arm64")

RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Keys Lambda sets itself and refuses in a function's configuration."""

PRELOAD_VARIABLE = "LAMBDAMAKER_PRELOAD"
"""Comma-separated modules the runtime's zygote imports before forking this function's
environments. Lambda has no such field, so it rides in the function's environment variables."""
SNAPSHOT_VARIABLE = "LAMBDAMAKER_SNAPSHOT"
"""``off`` disables per-version snapshots for a function (on by default)."""

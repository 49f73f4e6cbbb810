"""Platform configuration: frozen dataclasses, built once from CLI flags or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from lambdamaker.engines.functions.priority import DEFAULT_NICE as DEFAULT_FUNCTION_NICE
from lambdamaker.errors import ConfigError

DEFAULT_PORT = 4599
DEFAULT_HOST = "127.0.0.1"
DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


N = TypeVar("N", int, float)


def _env_number(name: str, default: N) -> N:
    """The environment variable ``name`` read as ``default``'s type, or ``default`` unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return type(default)(raw)
    except ValueError as exc:
        what = "an integer" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from exc


@dataclass(frozen=True)
class PlatformConfig:
    """Everything the platform needs to start. Everything it keeps lives under ``data_dir``."""

    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("LAMBDAMAKER_DATA_DIR", ".lambdamaker"))
    )
    """Root of all state: the metadata database, object bytes, credentials file."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    store_url: str | None = None
    """SQLAlchemy URL of the metadata store; default ``sqlite:///<data_dir>/lambdamaker.db``."""

    auth: bool = True
    """Verify SigV4 signatures. ``--no-auth`` turns it off for throwaway development."""

    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION

    account_concurrency: int = 1000
    """Concurrent executions of all functions together (Lambda's account limit). The server's
    ``--account-concurrency`` (or ``LAMBDAMAKER_ACCOUNT_CONCURRENCY``) sets it."""

    workers: int = 1
    """Processes serving the HTTP port. 1 is the primary alone; N adds N-1 data-plane workers
    (``lambdamaker.workers``) that share the port and serve the store-backed data plane
    (DynamoDB) on other cores, passing every other request to the primary."""

    function_nice: int = field(
        default_factory=lambda: _env_number("LAMBDAMAKER_FUNCTION_NICE", DEFAULT_FUNCTION_NICE)
    )
    """Steps below the platform (``nice``, 0-19) that function code runs at, so that the data
    plane every function waits on gets a core first when both want one
    (``engines.functions.priority``). 0 runs functions at the platform's priority."""

    keepalive: str = "fixed"
    """Keep-alive policy of idle execution environments: ``fixed`` (10 minutes) or ``hybrid``
    (the hybrid histogram policy of Shahrad et al., ATC'20)."""

    max_clock_skew_seconds: int = 300
    """Requests signed further from now than this get ``RequestTimeTooSkewed``."""

    async_retry_scale: float = field(
        default_factory=lambda: _env_number("LAMBDAMAKER_ASYNC_RETRY_SCALE", 1.0)
    )
    """Scales Lambda's async retry delays (about 1 and 2 minutes) and event ages, for
    development and tests: 0.01 retries after 0.6 s and 1.2 s. 1 behaves as AWS does."""

    sns_retry_scale: float = field(
        default_factory=lambda: _env_number("LAMBDAMAKER_SNS_RETRY_SCALE", 1.0)
    )
    """Scales every SNS delivery retry delay (SNS's managed-endpoint and http(s) policies), for
    development and tests. 1 behaves as AWS does."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).absolute())
        if self.keepalive not in ("fixed", "hybrid"):
            raise ConfigError(f"keepalive must be 'fixed' or 'hybrid', not {self.keepalive!r}")
        if not 1 <= self.workers <= 64:
            raise ConfigError("workers must be between 1 and 64")
        if not 0 <= self.function_nice <= 19:
            raise ConfigError("function nice must be between 0 and 19")
        if self.account_concurrency < 1:
            raise ConfigError("account concurrency must be at least 1")
        if not self.async_retry_scale > 0:
            raise ConfigError("async retry scale must be greater than 0")
        if not self.sns_retry_scale > 0:
            raise ConfigError("SNS retry scale must be greater than 0")

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_dir / 'lambdamaker.db'}"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def tmp_dir(self) -> Path:
        """Spool area for uploads; on the same filesystem as ``objects_dir`` so renames are atomic."""
        return self.data_dir / "tmp"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

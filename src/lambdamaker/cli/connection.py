"""How client commands reach a running platform: endpoint, keys, boto3 clients, errors.

Client commands (``logs``, ``invoke``, ``functions ...``) use only the public AWS API through
boto3, like any other client, so they add no back door (DESIGN.md, "Coming later").

- Endpoint: ``--endpoint-url``, else ``$LAMBDAMAKER_ENDPOINT_URL``, else the ``endpoint`` that
  ``<data-dir>/server.json`` names (written by ``lambdamaker server``), else
  ``http://127.0.0.1:4599``.
- Keys: the ``[default]`` profile of ``<data-dir>/credentials`` (the admin key the server wrote),
  else boto3's usual chain (``AWS_ACCESS_KEY_ID``..., profiles).
- Region: ``$AWS_REGION``, ``$AWS_DEFAULT_REGION``, else ``us-east-1``.
- Errors: an AWS error prints ``Error (Code): message`` and exits 1; an unreachable endpoint
  says so and how to start the server.
"""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from lambdamaker.config import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REGION

EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="The platform's URL (default: from <data-dir>/server.json).",
        envvar="LAMBDAMAKER_ENDPOINT_URL",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The server's data directory (for server.json and credentials).",
        envvar="LAMBDAMAKER_DATA_DIR",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Connection:
    endpoint_url: str
    region: str
    access_key: str | None = None
    secret_key: str | None = None

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=900),
        )


def connect(endpoint_url: str | None = None, data_dir: Path | None = None) -> Connection:
    data_dir = Path(data_dir) if data_dir is not None else Path(".lambdamaker")
    endpoint = endpoint_url or _endpoint_from(data_dir / "server.json")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    key, secret = _keys_from(data_dir / "credentials")
    return Connection(endpoint, region, key, secret)


def _endpoint_from(state_file: Path) -> str:
    try:
        endpoint = json.loads(state_file.read_text())["endpoint"]
        if isinstance(endpoint, str) and endpoint:
            return endpoint
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def _keys_from(credentials_file: Path) -> tuple[str | None, str | None]:
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(credentials_file, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None, None
    key = cp.get("default", "aws_access_key_id", fallback=None)
    secret = cp.get("default", "aws_secret_access_key", fallback=None)
    return (key, secret) if key and secret else (None, None)


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@contextmanager
def aws_errors(conn: Connection) -> Iterator[None]:
    """Turn boto3 failures into a one-line message and exit status 1."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        WaiterError,
    )

    try:
        yield
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise fail(f"Error ({err.get('Code', '?')}): {err.get('Message', '')}") from None
    except EndpointConnectionError:
        raise fail(
            f"Cannot reach lambdamaker at {conn.endpoint_url}. Is `lambdamaker server` running? "
            "(Or pass --endpoint-url / --data-dir.)"
        ) from None
    except NoCredentialsError:
        raise fail(
            "No credentials: pass --data-dir pointing at the server's data directory, "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from None
    except WaiterError as exc:
        last = exc.last_response or {}
        reason = last.get("StateReason") or last.get("LastUpdateStatusReason") or str(exc)
        raise fail(f"Error: {reason}") from None
    except BotoCoreError as exc:  # anything else botocore refuses (a bad profile, a bad URL...)
        raise fail(f"Error: {exc}") from None

"""The ``context`` object handlers receive, shaped as awslambdaric's ``LambdaContext``."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from typing import Any


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: dict[str, Any] | None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    app_package_name: Any
    app_title: Any
    app_version_code: Any
    app_version_name: Any
    installation_id: Any
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __repr__(self) -> str:
        fields = ",".join(f"{k}={getattr(self, k)}" for k in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    client: Any
    custom: Any
    env: Any
    __slots__ = ("client", "custom", "env")

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


def _from_dict(cls: type, values: dict[str, Any] | None) -> Any:
    if values is None:
        return None
    obj = cls()
    for name in getattr(cls, "__slots__", ()):
        setattr(obj, name, values.get(name))
    return obj


def decode_client_context(value: str | None) -> dict[str, Any] | None:
    """``ClientContext`` arrives base64-encoded JSON; already-decoded JSON is accepted too."""
    if not value:
        return None
    for candidate in (value, None):
        try:
            text = candidate if candidate is not None else base64.b64decode(value).decode()
            decoded = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(decoded, dict):
            return decoded
    return None


class LambdaContext:
    # Read from the (reserved) environment variables once per environment: ``configure``.
    log_group_name: str | None = None
    log_stream_name: str | None = None
    function_name: str | None = None
    memory_limit_in_mb: str | None = None
    function_version: str | None = None
    tenant_id = None
    client_context: ClientContext | None = None

    @classmethod
    def configure(cls) -> None:
        environ = os.environ
        cls.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        cls.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        cls.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        cls.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        cls.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")

    def __init__(
        self,
        request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: str | None,
        identity: dict[str, Any] | None,
    ) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self._deadline_ms = deadline_ms
        if client_context:
            decoded = decode_client_context(client_context)
            if decoded is not None:
                decoded.pop("w3c", None)
                client_context_obj = _from_dict(ClientContext, decoded)
                client_context_obj.client = _from_dict(Client, client_context_obj.client)
                self.client_context = client_context_obj
        self.identity = CognitoIdentity(identity)

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: Any) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},tenant_id=None])"
        )

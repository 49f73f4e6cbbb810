"""Function URL configs: CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
DeleteFunctionUrlConfig, ListFunctionUrlConfigs.

A config belongs to a function (unqualified) or one of its aliases; versions cannot have one
(the model's Qualifier pattern refuses them, and a version named in ``FunctionName`` gets the
same ValidationException; ``$LATEST`` names the unqualified function). AWS answers ``https://<url-id>.lambda-url.<region>.on.aws/``; here
``FunctionUrl`` is ``<endpoint>/_urls/<url-id>/``, which works with no DNS changes; the Host
form ``<url-id>.lambda-url.<region>.localhost`` is served too (``url_serving``).

Invariants:
- Every write drops the serving cache (``FunctionUrlServer.invalidate``) when it is made and
  again after it commits, so requests never see a config older than the last completed write.
- Deleting a function or an alias deletes its URL configs in the same transaction: every such
  deletion goes through ``changed``, which this mixin extends.
- ``InvokeMode`` RESPONSE_STREAM is accepted and stored, but the response is served buffered.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceConflictError, ValidationError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors
from lambdamaker.services.lambda_.arns import LATEST, is_alias
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.function_url_tables import function_urls
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import now_ms
from lambdamaker.services.lambda_.tables import aliases, functions
from lambdamaker.services.lambda_.url_serving import FunctionUrlServer

URL_ID_ALPHABET = string.ascii_lowercase + string.digits
URL_ID_LENGTH = 32
CORS_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"})
_ORIGIN = re.compile(r"\*|[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]+")
_QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"


def _url_key(name: str, qualifier: str) -> sa.ColumnElement[bool]:
    return sa.and_(function_urls.c.function_name == name, function_urls.c.qualifier == qualifier)


def new_url_id() -> str:
    return "".join(secrets.choice(URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


def url_time(ms: int) -> str:
    """The timestamp format of function URL configs: ``2021-12-21T17:42:04.325346Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_cors(cors: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Cors structure as stored (None when absent), or InvalidParameterValueException."""
    if cors is None:
        return None
    for method in cors.get("AllowMethods") or ():
        if method.upper() not in CORS_METHODS:
            raise InvalidParameterValueError(
                f"Invalid Cors AllowMethods value: '{method}'. Valid values are GET, PUT, "
                "HEAD, POST, PATCH, DELETE and *."
            )
    for origin in cors.get("AllowOrigins") or ():
        if _ORIGIN.fullmatch(origin) is None:
            raise InvalidParameterValueError(
                f"Invalid Cors AllowOrigins value: '{origin}'. An origin is '*' or "
                "<scheme>://<host>[:<port>]."
            )
    for member in ("AllowHeaders", "ExposeHeaders"):
        for header in cors.get(member) or ():
            if not header or any(c in header for c in " \t\r\n:"):
                raise InvalidParameterValueError(
                    f"Invalid Cors {member} value: '{header}'. Header names cannot be empty or "
                    "contain whitespace or ':'."
                )
    return dict(cors)


class FunctionUrlOperations(LambdaBase):
    @cached_property
    def url_server(self) -> FunctionUrlServer:
        """The ASGI app that serves this provider's function URLs (the gateway routes to it)."""
        return FunctionUrlServer(self)

    def function_url(self, url_id: str) -> str:
        return f"{self.platform.local_endpoint()}/_urls/{url_id}/"

    # --- helpers ------------------------------------------------------------------------------

    def _url_target(self, params: dict[str, Any]) -> tuple[str, str]:
        """(function name, stored qualifier: an alias or ``$LATEST``)."""
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        if qualifier is None or qualifier == LATEST:  # AWS's docs allow naming $LATEST
            return name, LATEST
        if not is_alias(qualifier):
            raise ValidationError(
                f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_QUALIFIER_PATTERN}"
            )
        return name, qualifier

    def _check_url_owner(self, conn: Connection, name: str, qualifier: str) -> None:
        arn_qualifier = None if qualifier == LATEST else qualifier
        self.function_row(conn, name, arn_qualifier)
        if arn_qualifier is not None:
            alias = conn.execute(
                sa.select(aliases.c.name).where(
                    aliases.c.function_name == name, aliases.c.name == qualifier
                )
            ).first()
            if alias is None:
                raise errors.function_not_found(self.arns.function(name, qualifier))

    def _select_url(self, conn: Connection, name: str, qualifier: str) -> Any:
        return conn.execute(sa.select(function_urls).where(_url_key(name, qualifier))).first()

    def _describe_url(self, row: Any, *, modified: bool = True) -> dict[str, Any]:
        qualifier = None if row.qualifier == LATEST else row.qualifier
        out: dict[str, Any] = {
            "FunctionUrl": self.function_url(row.url_id),
            "FunctionArn": self.arns.function(row.function_name, qualifier),
            "AuthType": row.auth_type,
            "CreationTime": url_time(row.created_ms),
            "InvokeMode": row.invoke_mode,
        }
        if modified:
            out["LastModifiedTime"] = url_time(row.modified_ms)
        if row.cors is not None:
            out["Cors"] = orjson.loads(row.cors)
        return out

    def _urls_changed(self, conn: Connection) -> None:
        self.url_server.invalidate()
        self.store.after_commit(conn, self.url_server.invalidate)

    # --- operations ---------------------------------------------------------------------------

    def create_function_url_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._url_target(params)
        cors = check_cors(params.get("Cors"))
        now = now_ms()
        with self.store.begin() as conn:
            self._check_url_owner(conn, name, qualifier)
            if self._select_url(conn, name, qualifier) is not None:
                arn = self.arns.function(name, None if qualifier == LATEST else qualifier)
                raise ResourceConflictError(
                    f"Failed to create function url config for [functionArn = {arn}]. Error "
                    "message:  FunctionUrlConfig exists for this Lambda function"
                )
            conn.execute(
                sa.insert(function_urls).values(
                    function_name=name,
                    qualifier=qualifier,
                    url_id=new_url_id(),
                    auth_type=params["AuthType"],
                    invoke_mode=params.get("InvokeMode") or "BUFFERED",
                    cors=orjson.dumps(cors).decode() if cors is not None else None,
                    created_ms=now,
                    modified_ms=now,
                )
            )
            row = self._select_url(conn, name, qualifier)
            self._urls_changed(conn)
        return self._describe_url(row, modified=False)

    def get_function_url_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._url_target(params)
        with self.store.read() as conn:
            self._check_url_owner(conn, name, qualifier)
            row = self._select_url(conn, name, qualifier)
        if row is None:
            raise errors.resource_not_found()
        return self._describe_url(row)

    def update_function_url_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._url_target(params)
        values: dict[str, Any] = {"modified_ms": now_ms()}
        if params.get("AuthType") is not None:
            values["auth_type"] = params["AuthType"]
        if params.get("InvokeMode") is not None:
            values["invoke_mode"] = params["InvokeMode"]
        if "Cors" in params:
            cors = check_cors(params["Cors"])
            values["cors"] = orjson.dumps(cors).decode() if cors is not None else None
        with self.store.begin() as conn:
            self._check_url_owner(conn, name, qualifier)
            if self._select_url(conn, name, qualifier) is None:
                raise errors.resource_not_found()
            conn.execute(sa.update(function_urls).where(_url_key(name, qualifier)).values(**values))
            row = self._select_url(conn, name, qualifier)
            self._urls_changed(conn)
        return self._describe_url(row)

    def delete_function_url_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._url_target(params)
        with self.store.begin() as conn:
            self._check_url_owner(conn, name, qualifier)
            deleted = conn.execute(
                sa.delete(function_urls).where(_url_key(name, qualifier))
            ).rowcount
            if not deleted:
                raise errors.resource_not_found()
            self._urls_changed(conn)
        return {}

    def list_function_url_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"], allow_qualifier=False)
        with self.store.read() as conn:
            self.function_row(conn, name)
            rows = conn.execute(
                sa.select(function_urls)
                .where(function_urls.c.function_name == name)
                .order_by(function_urls.c.qualifier)
            ).all()
        chunk, marker = page(rows, params, lambda r: str(r.qualifier))
        out: dict[str, Any] = {"FunctionUrlConfigs": [self._describe_url(r) for r in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    # --- cascading deletes --------------------------------------------------------------------

    def changed(self, conn: Connection, name: str) -> None:
        """Also drop the URL configs of a function or alias this change deleted."""
        super().changed(conn, name)
        function_gone = (
            conn.execute(sa.select(functions.c.name).where(functions.c.name == name)).first()
            is None
        )
        stmt = sa.delete(function_urls).where(function_urls.c.function_name == name)
        if not function_gone:
            stmt = stmt.where(
                function_urls.c.qualifier != LATEST,
                function_urls.c.qualifier.not_in(
                    sa.select(aliases.c.name).where(aliases.c.function_name == name)
                ),
            )
        if conn.execute(stmt).rowcount:
            self._urls_changed(conn)

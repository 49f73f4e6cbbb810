"""CORS for HTTP APIs (the API's ``CorsConfiguration``) and Lambda function URLs (their
``Cors``, the same members), checked on write and applied when serving. Pure: no store, no I/O.
Function URLs answer preflights with 200 and add ``Vary: Origin`` to origin-specific answers
(``preflight_status``, ``vary``).

AWS's rules, kept here:
- With CORS configured, API Gateway answers every preflight (``OPTIONS`` with ``Origin`` and
  ``Access-Control-Request-Method``) itself with 204, whatever the routes: OPTIONS routes are not
  invoked for preflights. The CORS headers are given only for an allowed origin.
- On other responses, for an allowed ``Origin``, API Gateway sets ``Access-Control-Allow-Origin``
  (plus ``-Allow-Credentials`` and ``-Expose-Headers`` when configured), replacing any CORS
  headers the integration returned; the integration's CORS headers are dropped either way.
- ``*`` in AllowOrigins allows every origin; AllowCredentials cannot be combined with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdamaker.services.apigatewayv2.common import BadRequestError
from lambdamaker.services.apigatewayv2.payloads import Outgoing


def validate_cors(config: dict[str, Any] | None) -> None:
    if not config:
        return
    if config.get("AllowCredentials") and "*" in (config.get("AllowOrigins") or []):
        raise BadRequestError(
            "allow-credentials cannot be set to true when allow-origins includes *"
        )
    max_age = config.get("MaxAge")
    if max_age is not None and not -1 <= int(max_age) <= 86400:
        raise BadRequestError("MaxAge must be between -1 and 86400")


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...]  # lower-cased
    methods: str
    headers: str
    expose: str
    max_age: int | None
    credentials: bool
    preflight_status: int = 204
    vary: bool = False

    @classmethod
    def from_config(
        cls, config: dict[str, Any] | None, *, preflight_status: int = 204, vary: bool = False
    ) -> CorsPolicy | None:
        if not config:
            return None
        return cls(
            origins=tuple(o.lower().rstrip("/") for o in config.get("AllowOrigins") or ()),
            methods=",".join(config.get("AllowMethods") or ()),
            headers=",".join(config.get("AllowHeaders") or ()),
            expose=",".join(config.get("ExposeHeaders") or ()),
            max_age=config.get("MaxAge"),
            credentials=bool(config.get("AllowCredentials")),
            preflight_status=preflight_status,
            vary=vary,
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        """The value of Access-Control-Allow-Origin for ``origin``, or None if not allowed."""
        if not origin:
            return None
        if "*" in self.origins:
            return "*"
        return origin if origin.lower().rstrip("/") in self.origins else None

    def preflight(self, headers: dict[str, str]) -> Outgoing | None:
        """API Gateway's own answer to a preflight, or None if this is not one."""
        origin = headers.get("origin")
        requested = headers.get("access-control-request-method")
        if not origin or not requested:
            return None
        out: list[tuple[str, str]] = []
        allowed = self.allowed_origin(origin)
        if allowed is not None:
            out.append(("access-control-allow-origin", allowed))
            if self.methods:
                out.append(("access-control-allow-methods", self.methods))
            if self.headers:
                out.append(("access-control-allow-headers", self.headers))
            if self.max_age is not None:
                out.append(("access-control-max-age", str(self.max_age)))
            if self.credentials:
                out.append(("access-control-allow-credentials", "true"))
            if self.expose:
                out.append(("access-control-expose-headers", self.expose))
            if self.vary and allowed != "*":
                out.append(("vary", "Origin"))
        return Outgoing(self.preflight_status, out, b"")

    def decorate(self, response: Outgoing, origin: str | None) -> Outgoing:
        kept = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        allowed = self.allowed_origin(origin)
        if allowed is not None:
            kept.append(("access-control-allow-origin", allowed))
            if self.credentials:
                kept.append(("access-control-allow-credentials", "true"))
            if self.expose:
                kept.append(("access-control-expose-headers", self.expose))
            if self.vary and allowed != "*":
                kept.append(("vary", "Origin"))
        return Outgoing(response.status, kept, response.body)

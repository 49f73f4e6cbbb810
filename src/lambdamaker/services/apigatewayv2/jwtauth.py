"""JWT authorizers at request time: the token from the identity source is checked against the
issuer's keys, the audience and the route's scopes.

Invariants (AWS's documented checks, in order):
- The token is the identity source's value with a leading ``Bearer `` removed; none → 401.
- Its signature must verify with a key from the issuer's JWKS (``<issuer>/.well-known/
  openid-configuration`` → ``jwks_uri``), matched by ``kid``; ``exp`` must be in the future and
  ``nbf`` (if present) in the past; ``iss`` must equal the configured Issuer; ``aud`` (or, without
  one, ``client_id``) must be one of the configured Audience. Any failure → 401.
- With route ``AuthorizationScopes``, the token's ``scope`` (space-separated) or ``scp`` must
  hold at least one of them, else 403.
- JWKS are cached per issuer for an hour; an unknown ``kid`` refetches at most once a minute.
  Fetching happens off the event loop.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import jwt

log = logging.getLogger("lambdamaker.apigatewayv2")

_JWKS_TTL = 3600.0
_REFETCH_AFTER = 60.0
_FETCH_TIMEOUT = 5.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]


class JwtRejected(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Keys:
    by_kid: dict[str | None, Any]
    fetched: float


def _get_json(url: str) -> Any:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT) as response:
        return json.loads(response.read())


def _fetch_keys(issuer: str) -> dict[str | None, Any]:
    config = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    jwks = _get_json(str(config["jwks_uri"]))
    out: dict[str | None, Any] = {}
    for entry in jwks.get("keys", []):
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        out[entry.get("kid")] = key.key
    return out


def claim_strings(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them: every value a string (arrays as ``[a b]``)."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, dict):
            out[name] = json.dumps(value, separators=(",", ":"))
        else:
            out[name] = str(value)
    return out


class JwtVerifier:
    def __init__(self) -> None:
        self._keys: dict[str, _Keys] = {}

    async def _key(self, issuer: str, kid: str | None) -> Any:
        now = time.monotonic()
        cached = self._keys.get(issuer)
        stale = cached is None or now - cached.fetched > _JWKS_TTL
        missing = cached is not None and kid not in cached.by_kid
        if stale or (missing and cached is not None and now - cached.fetched > _REFETCH_AFTER):
            try:
                keys = await anyio.to_thread.run_sync(_fetch_keys, issuer)
            except Exception as exc:
                log.warning("JWT authorizer: fetching the JWKS of %s failed: %s", issuer, exc)
                raise JwtRejected(401) from exc
            cached = self._keys[issuer] = _Keys(keys, now)
        assert cached is not None
        if kid in cached.by_kid:
            return cached.by_kid[kid]
        if kid is None and len(cached.by_kid) == 1:
            return next(iter(cached.by_kid.values()))
        raise JwtRejected(401)

    async def verify(
        self, token: str | None, config: dict[str, Any], scopes: list[str] | None
    ) -> tuple[dict[str, Any], list[str] | None]:
        """(claims, token scopes) of a valid token, or ``JwtRejected`` with 401 / 403."""
        if not token:
            raise JwtRejected(401)
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        issuer = str(config.get("Issuer") or "")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise JwtRejected(401) from exc
        key = await self._key(issuer, header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=_ALGORITHMS,
                issuer=issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise JwtRejected(401) from exc
        audiences = set(config.get("Audience") or [])
        aud = claims.get("aud") or claims.get("client_id")
        given = set(aud) if isinstance(aud, list) else {aud} if aud is not None else set()
        if audiences and not audiences & given:
            raise JwtRejected(401)
        granted: list[str] | None = None
        if isinstance(claims.get("scope"), str):
            granted = claims["scope"].split()
        elif isinstance(claims.get("scp"), list):
            granted = [str(s) for s in claims["scp"]]
        elif isinstance(claims.get("scp"), str):
            granted = claims["scp"].split()
        if scopes and not set(scopes) & set(granted or ()):
            raise JwtRejected(403)
        return claims, granted

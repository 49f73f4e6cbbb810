"""HTTP API authorizers end to end: authorizer CRUD and bad input through boto3; JWT
authorizers against a local OpenID issuer; Lambda (REQUEST) authorizers with simple and IAM
policy responses, context and caching; AWS_IAM routes with SigV4."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from function_support import create_function
from lambdamaker.testing import ServerProcess

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""

AUTHORIZER = """
import uuid

def handler(event, context):
    assert event["type"] == "REQUEST"
    token = event["headers"].get("x-token")
    if event["version"] == "2.0":
        assert event["identitySource"] == [token]
        if token == "allow":
            return {"isAuthorized": True, "context": {"user": "alice", "nonce": str(uuid.uuid4())}}
        return {"isAuthorized": False}
    effect = "Allow" if token == "allow" else "Deny"
    return {
        "principalId": "bob",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [event["methodArn"]]}
            ],
        },
        "context": {"user": "bob"},
    }
"""


@pytest.fixture(scope="module")
def functions(boto_client: Callable[..., Any]) -> dict[str, str]:
    lam = boto_client("lambda")
    return {
        "echo": create_function(lam, ECHO, "apigw-auth"),
        "authorizer": create_function(lam, AUTHORIZER, "apigw-auth"),
    }


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _api(apigw: Any, echo_arn: str) -> tuple[str, str, str]:
    api = apigw.create_api(Name=f"auth-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")
    integration = apigw.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=echo_arn,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    return api["ApiId"], api["ApiEndpoint"], f"integrations/{integration}"


# --- an OpenID issuer on 127.0.0.1 ------------------------------------------------------------


class Issuer:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        keys = []
        for kid, private in (("rsa-1", self.rsa), ("ec-1", self.ec)):
            jwk = json.loads(
                jwt.algorithms.get_default_algorithms()[
                    "RS256" if kid == "rsa-1" else "ES256"
                ].to_jwk(private.public_key())
            )
            jwk["kid"] = kid
            keys.append(jwk)
        self.jwks = {"keys": keys}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body: dict[str, Any]
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks.json"}
                elif self.path == "/jwks.json":
                    body = issuer.jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def token(self, *, kid: str = "rsa-1", key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "sub": "user-1", "aud": "my-app", "iat": now, "exp": now + 300}
        body.update(claims)
        alg = "RS256" if kid == "rsa-1" else "ES256"
        signing = key or (self.rsa if kid == "rsa-1" else self.ec)
        return jwt.encode(body, signing, algorithm=alg, headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    server = Issuer()
    yield server
    server.close()


@pytest.fixture()
def jwt_api(apigw: Any, functions: dict[str, str], issuer: Issuer) -> str:
    api_id, endpoint, target = _api(apigw, functions["echo"])
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
    )["AuthorizerId"]
    for key, scopes in (("GET /open", []), ("GET /admin", ["admin", "root"])):
        apigw.create_route(
            ApiId=api_id,
            RouteKey=key,
            Target=target,
            AuthorizationType="JWT",
            AuthorizerId=authorizer,
            AuthorizationScopes=scopes,
        )
    return endpoint


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_jwt_reaches_the_function_with_its_claims(
    http: httpx.Client, jwt_api: str, issuer: Issuer
) -> None:
    response = http.get(jwt_api + "/open", headers=_bearer(issuer.token(scope="read write")))
    assert response.status_code == 200
    authorizer = response.json()["requestContext"]["authorizer"]["jwt"]
    assert authorizer["claims"]["sub"] == "user-1"
    assert authorizer["claims"]["iss"] == issuer.url
    assert authorizer["scopes"] == ["read", "write"]
    # ES256 keys and client_id (no aud) are accepted too.
    es = issuer.token(kid="ec-1", aud=None, client_id="my-app", scp=["admin"])
    assert http.get(jwt_api + "/admin", headers=_bearer(es)).status_code == 200


def test_bad_jwts_are_401(http: httpx.Client, jwt_api: str, issuer: Issuer) -> None:
    expired = issuer.token(exp=int(time.time()) - 60)
    wrong_aud = issuer.token(aud="someone-else")
    wrong_iss = issuer.token(iss="https://elsewhere.example")
    not_yet = issuer.token(nbf=int(time.time()) + 600)
    forged = issuer.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for token in (expired, wrong_aud, wrong_iss, not_yet, forged, "not-a-jwt"):
        response = http.get(jwt_api + "/open", headers=_bearer(token))
        assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert http.get(jwt_api + "/open").status_code == 401


def test_jwt_without_a_route_scope_is_403(http: httpx.Client, jwt_api: str, issuer: Issuer) -> None:
    response = http.get(jwt_api + "/admin", headers=_bearer(issuer.token(scope="read")))
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    ok = http.get(jwt_api + "/admin", headers=_bearer(issuer.token(scope="read root")))
    assert ok.status_code == 200


# --- Lambda authorizers ---------------------------------------------------------------------


def _lambda_api(apigw: Any, functions: dict[str, str], version: str, ttl: int) -> tuple[str, str]:
    api_id, endpoint, target = _api(apigw, functions["echo"])
    extra: dict[str, Any] = {"EnableSimpleResponses": True} if version == "2.0" else {}
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"{functions['authorizer']}/invocations"
        ),
        AuthorizerPayloadFormatVersion=version,
        IdentitySource=["$request.header.x-token"],
        AuthorizerResultTtlInSeconds=ttl,
        **extra,
    )
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /guarded/{id}",
        Target=target,
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    return api_id, endpoint


def test_simple_lambda_authorizer_allows_denies_and_passes_context(
    apigw: Any, http: httpx.Client, functions: dict[str, str]
) -> None:
    _, endpoint = _lambda_api(apigw, functions, "2.0", 0)
    allowed = http.get(endpoint + "/guarded/1", headers={"x-token": "allow"})
    assert allowed.status_code == 200
    context = allowed.json()["requestContext"]["authorizer"]["lambda"]
    assert context["user"] == "alice"
    denied = http.get(endpoint + "/guarded/1", headers={"x-token": "nope"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    missing = http.get(endpoint + "/guarded/1")
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    # Without caching, every request asks the authorizer again.
    again = http.get(endpoint + "/guarded/1", headers={"x-token": "allow"})
    assert again.json()["requestContext"]["authorizer"]["lambda"]["nonce"] != context["nonce"]


def test_lambda_authorizer_results_are_cached_by_identity(
    apigw: Any, http: httpx.Client, functions: dict[str, str]
) -> None:
    _, endpoint = _lambda_api(apigw, functions, "2.0", 300)
    first = http.get(endpoint + "/guarded/1", headers={"x-token": "allow"})
    second = http.get(endpoint + "/guarded/2", headers={"x-token": "allow"})
    nonce = first.json()["requestContext"]["authorizer"]["lambda"]["nonce"]
    assert second.json()["requestContext"]["authorizer"]["lambda"]["nonce"] == nonce


def test_policy_lambda_authorizer_in_format_1_0(
    apigw: Any, http: httpx.Client, functions: dict[str, str]
) -> None:
    _, endpoint = _lambda_api(apigw, functions, "1.0", 0)
    allowed = http.get(endpoint + "/guarded/1", headers={"x-token": "allow"})
    assert allowed.status_code == 200
    assert allowed.json()["requestContext"]["authorizer"]["lambda"] == {"user": "bob"}
    denied = http.get(endpoint + "/guarded/1", headers={"x-token": "deny"})
    assert denied.status_code == 403


# --- AWS_IAM ----------------------------------------------------------------------------------


def test_iam_route_requires_a_valid_signature(
    apigw: Any, http: httpx.Client, functions: dict[str, str], lm_server: ServerProcess
) -> None:
    api_id, endpoint, target = _api(apigw, functions["echo"])
    apigw.create_route(
        ApiId=api_id, RouteKey="GET /iam", Target=target, AuthorizationType="AWS_IAM"
    )
    assert http.get(endpoint + "/iam").status_code == 403
    key, secret = lm_server.credentials()
    request = AWSRequest(method="GET", url=endpoint + "/iam")
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    signed = http.get(endpoint + "/iam", headers=dict(request.headers.items()))
    assert signed.status_code == 200
    assert signed.json()["requestContext"]["authorizer"]["iam"]["accessKey"] == key
    wrong = AWSRequest(method="GET", url=endpoint + "/iam")
    SigV4Auth(Credentials(key, "not-the-secret"), "execute-api", "us-east-1").add_auth(wrong)
    assert http.get(endpoint + "/iam", headers=dict(wrong.headers.items())).status_code == 403


# --- control plane ----------------------------------------------------------------------------


def test_authorizer_crud(apigw: Any, functions: dict[str, str], issuer: Issuer) -> None:
    api_id, _, target = _api(apigw, functions["echo"])
    created = apigw.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["a"]},
    )
    ident = created["AuthorizerId"]
    assert apigw.get_authorizer(ApiId=api_id, AuthorizerId=ident)["Name"] == "jwt"
    updated = apigw.update_authorizer(
        ApiId=api_id, AuthorizerId=ident, JwtConfiguration={"Issuer": issuer.url, "Audience": ["b"]}
    )
    assert updated["JwtConfiguration"]["Audience"] == ["b"]
    assert [a["AuthorizerId"] for a in apigw.get_authorizers(ApiId=api_id)["Items"]] == [ident]
    route = apigw.create_route(
        ApiId=api_id, RouteKey="GET /x", Target=target, AuthorizationType="JWT", AuthorizerId=ident
    )
    with pytest.raises(ClientError) as exc:
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=ident)
    assert _code(exc) == "BadRequestException"
    apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="NONE")
    assert "AuthorizerId" not in apigw.get_route(ApiId=api_id, RouteId=route["RouteId"])
    apigw.delete_authorizer(ApiId=api_id, AuthorizerId=ident)
    with pytest.raises(ClientError) as exc:
        apigw.get_authorizer(ApiId=api_id, AuthorizerId=ident)
    assert _code(exc) == "NotFoundException"


def test_authorizer_bad_input(apigw: Any, functions: dict[str, str]) -> None:
    api_id, _, target = _api(apigw, functions["echo"])
    bad: list[dict[str, Any]] = [
        {"AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"]},
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["Authorization"],
            "JwtConfiguration": {"Issuer": "https://i.example"},
        },
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerPayloadFormatVersion": "2.0",
            "IdentitySource": ["$request.header.x-token"],
        },
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": functions["authorizer"],
            "AuthorizerPayloadFormatVersion": "1.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.x-token"],
        },
    ]
    for params in bad:
        with pytest.raises(ClientError) as exc:
            apigw.create_authorizer(ApiId=api_id, Name="bad", **params)
        assert _code(exc) == "BadRequestException", params
    with pytest.raises(ClientError) as exc:
        apigw.create_route(ApiId=api_id, RouteKey="GET /y", Target=target, AuthorizationType="JWT")
    assert _code(exc) == "BadRequestException"
    with pytest.raises(ClientError) as exc:
        apigw.create_route(
            ApiId=api_id,
            RouteKey="GET /y",
            Target=target,
            AuthorizationType="CUSTOM",
            AuthorizerId="nosuch1",
        )
    assert _code(exc) == "NotFoundException"
    assert apigw.get_routes(ApiId=api_id)["Items"] == []

"""Resource-based policies: AddPermission, RemovePermission, GetPolicy, and tags: TagResource,
UntagResource, ListTags.

Policies are stored per function version (``$LATEST`` when unqualified) or alias, as the JSON
document GetPolicy returns, and each change gives that version or alias a new RevisionId (the
one GetPolicy reports and the ``RevisionId`` preconditions compare). They are stored only:
enforcement comes with the security work.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import (
    InvalidParameterValueError,
    ResourceConflictError,
    ResourceNotFoundError,
    ServiceError,
)
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors, validation
from lambdamaker.services.lambda_.arns import LATEST, is_alias
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.records import (
    new_revision,
    select_alias,
    select_function,
    select_version,
)
from lambdamaker.services.lambda_.tables import aliases, functions, versions

POLICY_LIMIT = 20480
_ACCOUNT = re.compile(r"\d{12}")


class PolicyTooLargeError(ServiceError):
    code = "PolicyLengthExceededException"
    status = 400


def principal_element(principal: str, partition: str = "aws") -> Any:
    if principal == "*":
        return "*"
    if principal.endswith(".amazonaws.com"):
        return {"Service": principal}
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:{partition}:iam::{principal}:root"}
    if re.match(r"arn:aws[a-zA-Z-]*:iam:", principal):
        return {"AWS": principal}
    raise InvalidParameterValueError(
        "The provided principal was invalid. Please check the principal and try again."
    )


def build_statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": principal_element(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    if params.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params[
            "FunctionUrlAuthType"
        ]
    if params.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("EventSourceToken"):
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = params[
            "EventSourceToken"
        ]
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    if condition:
        statement["Condition"] = condition
    return statement


class PermissionOperations(LambdaBase):
    def _policy_owner(
        self, conn: Connection, name: str, qualifier: str | None
    ) -> tuple[sa.Table, Any, str, str | None, str]:
        """(table, where clause, revision id, policy JSON, resource ARN) of the qualified target."""
        if select_function(conn, name) is None:
            raise errors.function_not_found(self.arns.function(name))
        if qualifier is not None and is_alias(qualifier):
            alias = select_alias(conn, name, qualifier)
            if alias is None:
                raise errors.alias_not_found(self.arns.function(name, qualifier))
            where = sa.and_(aliases.c.function_name == name, aliases.c.name == qualifier)
            return (
                aliases,
                where,
                alias.revision_id,
                alias.policy,
                self.arns.function(name, qualifier),
            )
        version = qualifier or LATEST
        record = select_version(conn, name, version)
        if record is None:
            raise errors.function_not_found(self.arns.function(name, qualifier))
        where = sa.and_(versions.c.function_name == name, versions.c.version == version)
        return (
            versions,
            where,
            record.revision_id,
            record.policy,
            self.arns.function(name, qualifier),
        )

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        if qualifier == LATEST:
            raise InvalidParameterValueError(
                "We currently do not support adding policies for $LATEST."
            )
        with self.store.begin() as conn:
            table, where, revision, policy_json, resource = self._policy_owner(
                conn, name, qualifier
            )
            if params.get("RevisionId") and params["RevisionId"] != revision:
                raise errors.revision_mismatch()
            policy: dict[str, Any] = (
                orjson.loads(policy_json)
                if policy_json
                else {"Version": "2012-10-17", "Id": "default", "Statement": []}
            )
            sid = params["StatementId"]
            if any(s.get("Sid") == sid for s in policy["Statement"]):
                raise ResourceConflictError(
                    f"The statement id ({sid}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement."
                )
            statement = build_statement(params, resource)
            policy["Statement"].append(statement)
            document = orjson.dumps(policy).decode()
            if len(document) > POLICY_LIMIT:
                raise PolicyTooLargeError(
                    f"The final policy size ({len(document)}) is bigger than the limit "
                    f"({POLICY_LIMIT})."
                )
            conn.execute(
                sa.update(table).where(where).values(policy=document, revision_id=new_revision())
            )
            self.changed(conn, name)
        return {"Statement": orjson.dumps(statement).decode()}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        sid = params["StatementId"]
        with self.store.begin() as conn:
            if select_function(conn, name) is None:
                raise ResourceNotFoundError(f"No policy found for: {self.arns.function(name)}")
            table, where, revision, policy_json, _ = self._policy_owner(conn, name, qualifier)
            if not policy_json:
                raise ResourceNotFoundError("No policy is associated with the given resource.")
            policy = orjson.loads(policy_json)
            kept = [s for s in policy["Statement"] if s.get("Sid") != sid]
            if len(kept) == len(policy["Statement"]):
                raise ResourceNotFoundError(f"Statement {sid} is not found in resource policy.")
            if params.get("RevisionId") and params["RevisionId"] != revision:
                raise errors.revision_mismatch()
            policy["Statement"] = kept
            document = orjson.dumps(policy).decode() if kept else None
            conn.execute(
                sa.update(table).where(where).values(policy=document, revision_id=new_revision())
            )
            self.changed(conn, name)
        return {}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        with self.store.read() as conn:
            _, _, revision, policy_json, _ = self._policy_owner(conn, name, qualifier)
        if not policy_json:
            raise errors.resource_not_found()
        return {"Policy": policy_json, "RevisionId": revision}

    # --- tags ---------------------------------------------------------------------------------

    def _tagged_function(self, params: dict[str, Any]) -> str:
        name, qualifier = self.arns.parse_function(params["Resource"])
        if qualifier is not None:
            raise InvalidParameterValueError(
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN."
            )
        return name

    def _write_tags(self, name: str, change: Any) -> None:
        with self.store.begin() as conn:
            row = self.require_function(conn, name)
            tags = validation.check_tags(change(orjson.loads(row.tags)))
            conn.execute(
                sa.update(functions)
                .where(functions.c.name == name)
                .values(tags=orjson.dumps(tags).decode())
            )
            # Tags are part of the function: $LATEST gets a new revision, as on AWS.
            conn.execute(
                sa.update(versions)
                .where(versions.c.function_name == name, versions.c.version == LATEST)
                .values(revision_id=new_revision())
            )
            self.changed(conn, name)

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self._tagged_function(params)
        new = params.get("Tags") or {}
        if not new:
            raise InvalidParameterValueError(
                "An error occurred and the request cannot be processed."
            )
        self._write_tags(name, lambda tags: {**tags, **new})
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self._tagged_function(params)
        keys = set(params.get("TagKeys") or [])
        self._write_tags(name, lambda tags: {k: v for k, v in tags.items() if k not in keys})
        return {}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self._tagged_function(params)
        with self.store.read() as conn:
            row = self.require_function(conn, name)
        return {"Tags": orjson.loads(row.tags)}

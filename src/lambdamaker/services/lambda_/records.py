"""Version and alias records: rows in, API shapes out.

``VersionRecord`` is one ``lambda_versions`` row with its configuration decoded; ``describe``
renders it as Lambda's ``FunctionConfiguration``. Statements the hot paths run are built once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.arns import LATEST, Arns
from lambdamaker.services.lambda_.tables import aliases, functions, versions


def now_ms() -> int:
    return int(time.time() * 1000)


def new_revision() -> str:
    return str(uuid.uuid4())


def lambda_date(ms: int) -> str:
    """Lambda's timestamp format: ``2024-05-01T12:00:00.123+0000``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class VersionRecord:
    function_name: str
    version: str
    config: dict[str, Any]
    config_token: str
    code_sha256: str
    code_hex: str
    code_size: int
    code_unzipped: int
    code_blob: str
    state: str
    revision_id: str
    last_modified_ms: int
    state_reason: str | None = None
    state_reason_code: str | None = None
    update_status: str | None = None
    update_reason: str | None = None
    update_reason_code: str | None = None
    policy: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> VersionRecord:
        values = dict(row._mapping)
        values["config"] = orjson.loads(values["config"])
        return cls(**values)

    def row_values(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        values["config"] = orjson.dumps(self.config).decode()
        return values

    @property
    def environment(self) -> dict[str, str]:
        env: dict[str, str] = self.config.get("Environment") or {}
        return env

    @property
    def layers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.config.get("Layers") or []
        return found

    @property
    def settled(self) -> bool:
        """Neither being created nor being updated."""
        return self.state != "Pending" and self.update_status != "InProgress"

    def describe(
        self, arns: Arns, qualified: bool | None = None, alias: str | None = None
    ) -> dict[str, Any]:
        """``FunctionConfiguration``. The ARN is qualified for a published version, for an
        explicit qualifier (``qualified``), and carries the alias when reached through one."""
        c = self.config
        if alias is not None:
            arn = arns.function(self.function_name, alias)
        elif qualified or (qualified is None and self.version != LATEST):
            arn = arns.function(self.function_name, self.version)
        else:
            arn = arns.function(self.function_name)
        out: dict[str, Any] = {
            "FunctionName": self.function_name,
            "FunctionArn": arn,
            "Runtime": c["Runtime"],
            "Role": c["Role"],
            "Handler": c["Handler"],
            "CodeSize": self.code_size,
            "Description": c.get("Description", ""),
            "Timeout": c["Timeout"],
            "MemorySize": c["MemorySize"],
            "LastModified": lambda_date(self.last_modified_ms),
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": c.get("TracingConfig") or {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": self.state,
            "PackageType": "Zip",
            "Architectures": c.get("Architectures") or ["x86_64"],
            "EphemeralStorage": {"Size": c.get("EphemeralStorage", 512)},
            "SnapStart": {
                "ApplyOn": c.get("SnapStartApplyOn", "None"),
                "OptimizationStatus": (
                    "On"
                    if c.get("SnapStartApplyOn") == "PublishedVersions" and self.version != LATEST
                    else "Off"
                ),
            },
            "LoggingConfig": c.get("LoggingConfig")
            or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.function_name}"},
        }
        if c.get("Environment") is not None:
            out["Environment"] = {"Variables": dict(c["Environment"])}
        if self.layers:
            out["Layers"] = [
                {"Arn": layer["Arn"], "CodeSize": layer["CodeSize"]} for layer in self.layers
            ]
        for member in ("DeadLetterConfig", "KMSKeyArn"):
            if c.get(member):
                out[member] = c[member]
        if c.get("VpcConfig"):
            out["VpcConfig"] = {**c["VpcConfig"], "VpcId": ""}
        if self.state_reason:
            out["StateReason"] = self.state_reason
        if self.state_reason_code:
            out["StateReasonCode"] = self.state_reason_code
        if self.update_status:
            out["LastUpdateStatus"] = self.update_status
        if self.update_reason:
            out["LastUpdateStatusReason"] = self.update_reason
        if self.update_reason_code:
            out["LastUpdateStatusReasonCode"] = self.update_reason_code
        return out


@dataclass
class AliasRecord:
    function_name: str
    name: str
    function_version: str
    description: str
    revision_id: str
    routing: dict[str, float] = field(default_factory=dict)
    policy: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> AliasRecord:
        return cls(
            function_name=row.function_name,
            name=row.name,
            function_version=row.function_version,
            description=row.description,
            revision_id=row.revision_id,
            routing=orjson.loads(row.routing) if row.routing else {},
            policy=row.policy,
        )

    def row_values(self) -> dict[str, Any]:
        return {
            "function_name": self.function_name,
            "name": self.name,
            "function_version": self.function_version,
            "description": self.description,
            "routing": orjson.dumps(self.routing).decode() if self.routing else None,
            "revision_id": self.revision_id,
            "policy": self.policy,
        }

    def describe(self, arns: Arns) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": arns.function(self.function_name, self.name),
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.routing:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.routing)}
        return out


# --- statements, built once ----------------------------------------------------------------

_SELECT_VERSION = sa.select(versions).where(
    versions.c.function_name == sa.bindparam("name"), versions.c.version == sa.bindparam("version")
)
_SELECT_ALIAS = sa.select(aliases).where(
    aliases.c.function_name == sa.bindparam("name"), aliases.c.name == sa.bindparam("alias")
)
_SELECT_FUNCTION = sa.select(functions).where(functions.c.name == sa.bindparam("name"))


def select_function(conn: Connection, name: str) -> Any:
    return conn.execute(_SELECT_FUNCTION, {"name": name}).first()


def select_version(conn: Connection, name: str, version: str) -> VersionRecord | None:
    row = conn.execute(_SELECT_VERSION, {"name": name, "version": version}).first()
    return VersionRecord.from_row(row) if row is not None else None


def select_alias(conn: Connection, name: str, alias: str) -> AliasRecord | None:
    row = conn.execute(_SELECT_ALIAS, {"name": name, "alias": alias}).first()
    return AliasRecord.from_row(row) if row is not None else None


def update_version(conn: Connection, record: VersionRecord) -> None:
    values = record.row_values()
    conn.execute(
        sa.update(versions)
        .where(
            versions.c.function_name == record.function_name,
            versions.c.version == record.version,
        )
        .values(**values)
    )


def version_sort_key(version: str) -> tuple[int, int]:
    """``$LATEST`` first, then published versions in numeric order (as Lambda lists them)."""
    return (0, 0) if version == LATEST else (1, int(version))

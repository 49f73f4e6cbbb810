"""Layers: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers,
ListLayerVersions, DeleteLayerVersion.

A layer version is an immutable zip, numbered from 1 per layer name and never reused (deleting
the newest version does not free its number). Functions reference layer versions by ARN; the
engine gets the unpacked trees in order (``FunctionSpec.layer_dirs``) and puts each one's
``python/`` on ``sys.path`` as ``/opt/python`` would be. Deleting a layer version does not
break functions that use it (their configuration holds the tree and blob), as on AWS; its blob
is then removed by the start-up sweep once nothing references it.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from lambdamaker.errors import InvalidParameterValueError, ValidationError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors, sources
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import lambda_date, now_ms
from lambdamaker.services.lambda_.tables import layer_versions, layers


class LayerOperations(LambdaBase):
    def _item(self, row: Any) -> dict[str, Any]:
        """``LayerVersionsListItem`` (the listing shape)."""
        out: dict[str, Any] = {
            "LayerVersionArn": self.arns.layer_version(row.name, row.version),
            "Version": row.version,
            "Description": row.description,
            "CreatedDate": lambda_date(row.created_ms),
        }
        if row.runtimes:
            out["CompatibleRuntimes"] = orjson.loads(row.runtimes)
        if row.architectures:
            out["CompatibleArchitectures"] = orjson.loads(row.architectures)
        if row.license_info is not None:
            out["LicenseInfo"] = row.license_info
        return out

    def _describe(self, row: Any) -> dict[str, Any]:
        """``GetLayerVersionResponse`` / ``PublishLayerVersionResponse``."""
        out = self._item(row)
        out["LayerArn"] = self.arns.layer(row.name)
        out["Content"] = {
            "Location": self.code.blobs.path(row.code_blob).as_uri(),
            "CodeSha256": row.code_sha256,
            "CodeSize": row.code_size,
        }
        return out

    @staticmethod
    def _version_number(params: dict[str, Any]) -> int:
        number = int(params["VersionNumber"])
        if number < 1:
            raise InvalidParameterValueError("Layer Version Cannot be less than 1")
        return number

    def _row(self, name: str, number: int) -> Any:
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(layer_versions).where(
                    layer_versions.c.name == name, layer_versions.c.version == number
                )
            ).first()
        if row is None:
            raise errors.resource_not_found()
        return row

    def publish_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.arns.layer_name(params["LayerName"])
        content = params.get("Content") or {}
        if not sources.has_source(content):
            raise InvalidParameterValueError("Please provide a source for the layer content.")
        artifact = sources.ingest(
            self.platform, self.code, content, "layers", "PublishLayerVersion"
        )
        runtimes = params.get("CompatibleRuntimes")
        architectures = params.get("CompatibleArchitectures")
        committed = False
        try:
            with self.store.begin() as conn:
                current = conn.execute(
                    sa.select(layers.c.next_version).where(layers.c.name == name)
                ).scalar()
                number = int(current or 1)
                if current is None:
                    conn.execute(sa.insert(layers).values(name=name, next_version=2))
                else:
                    conn.execute(
                        sa.update(layers)
                        .where(layers.c.name == name)
                        .values(next_version=number + 1)
                    )
                conn.execute(
                    sa.insert(layer_versions).values(
                        name=name,
                        version=number,
                        description=params.get("Description") or "",
                        license_info=params.get("LicenseInfo"),
                        runtimes=orjson.dumps(runtimes).decode() if runtimes else None,
                        architectures=orjson.dumps(architectures).decode()
                        if architectures
                        else None,
                        code_sha256=artifact.sha256,
                        code_hex=artifact.hex,
                        code_size=artifact.size,
                        code_unzipped=artifact.unzipped,
                        code_blob=artifact.blob_id,
                        created_ms=now_ms(),
                    )
                )
            committed = True
        finally:
            if not committed:
                self.code.discard([artifact.blob_id])
        return self._describe(self._row(name, number))

    def get_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.arns.layer_name(params["LayerName"])
        return self._describe(self._row(name, self._version_number(params)))

    def get_layer_version_by_arn(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        parsed = self.arns.parse_layer_version(params["Arn"])
        if parsed is None:
            raise ValidationError(
                f"1 validation error detected: Value '{params['Arn']}' at 'arn' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:"
                "layer:[a-zA-Z0-9-_]+:[0-9]+"
            )
        return self._describe(self._row(*parsed))

    @staticmethod
    def _matches(row: Any, params: dict[str, Any]) -> bool:
        runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
        if runtime and runtime not in (orjson.loads(row.runtimes) if row.runtimes else []):
            return False
        return not (
            arch and arch not in (orjson.loads(row.architectures) if row.architectures else [])
        )

    def list_layers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(layer_versions).order_by(
                    layer_versions.c.name, layer_versions.c.version.desc()
                )
            ).all()
        latest: dict[str, Any] = {}
        for row in rows:
            if row.name not in latest and self._matches(row, params):
                latest[row.name] = row
        names = sorted(latest)
        chunk, marker = page(names, params, lambda n: n)
        out: dict[str, Any] = {
            "Layers": [
                {
                    "LayerName": n,
                    "LayerArn": self.arns.layer(n),
                    "LatestMatchingVersion": self._item(latest[n]),
                }
                for n in chunk
            ]
        }
        if marker:
            out["NextMarker"] = marker
        return out

    def list_layer_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.arns.layer_name(params["LayerName"])
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(layer_versions)
                .where(layer_versions.c.name == name)
                .order_by(layer_versions.c.version.desc())
            ).all()
        matching = [r for r in rows if self._matches(r, params)]
        chunk, marker = page(matching, params, lambda r: f"{10**12 - r.version:013d}")
        out: dict[str, Any] = {"LayerVersions": [self._item(r) for r in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    def delete_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.arns.layer_name(params["LayerName"])
        number = self._version_number(params)
        with self.store.begin() as conn:
            conn.execute(
                sa.delete(layer_versions).where(
                    layer_versions.c.name == name, layer_versions.c.version == number
                )
            )
        return {}

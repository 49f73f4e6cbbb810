"""Versions: PublishVersion and ListVersionsByFunction.

A published version is a frozen copy of ``$LATEST``'s code and configuration, numbered from 1
and never reused. Publishing when nothing changed since the newest version returns that version
(Lambda's behaviour); the ``CodeSha256`` and ``RevisionId`` parameters are preconditions on
``$LATEST``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lambdamaker.errors import InvalidParameterValueError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors
from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.functions import FunctionOperations, for_listing
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import VersionRecord, version_sort_key
from lambdamaker.services.lambda_.tables import versions


def _version_key(record: VersionRecord) -> str:
    kind, number = version_sort_key(record.version)
    return f"{kind}{number:012d}"


class VersionOperations(FunctionOperations):
    def publish_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.read() as conn:
            self.version_record(conn, name, LATEST)
        self.settled_version(name, LATEST)
        with self.store.begin() as conn:
            latest = self.version_record(conn, name, LATEST)
            if params.get("RevisionId") and params["RevisionId"] != latest.revision_id:
                raise errors.revision_mismatch()
            expected = params.get("CodeSha256")
            if expected and expected != latest.code_sha256:
                raise InvalidParameterValueError(
                    f"CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST "
                    f"({latest.code_sha256}). Please try again with the CodeSHA256 in $LATEST."
                )
            if not latest.settled:
                raise errors.update_in_progress(self.arns.function(name))
            record = self.publish_in(conn, name, latest, params.get("Description"))
            self.changed(conn, name)
        return record.describe(self.arns, qualified=True)

    def list_versions_by_function(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.read() as conn:
            self.function_row(conn, name)
            records = [
                VersionRecord.from_row(r)
                for r in conn.execute(sa.select(versions).where(versions.c.function_name == name))
            ]
        records.sort(key=_version_key)
        chunk, marker = page(records, params, _version_key)
        out: dict[str, Any] = {
            "Versions": [for_listing(r.describe(self.arns, qualified=True)) for r in chunk]
        }
        if marker:
            out["NextMarker"] = marker
        return out

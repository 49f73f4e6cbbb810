"""``LambdaProvider``: every group of Lambda operations composed into one ``Provider``, and its
start-up (recovery) and shutdown."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa

from lambdamaker.services.lambda_.aliases import AliasOperations
from lambdamaker.services.lambda_.arns import Arns
from lambdamaker.services.lambda_.code import CodeStore
from lambdamaker.services.lambda_.concurrency import ConcurrencyOperations
from lambdamaker.services.lambda_.dispatcher import EventDispatcher
from lambdamaker.services.lambda_.engine_link import EngineLink
from lambdamaker.services.lambda_.event_config import EventConfigOperations
from lambdamaker.services.lambda_.events import EventQueue
from lambdamaker.services.lambda_.function_url_tables import MIGRATIONS as URL_MIGRATIONS
from lambdamaker.services.lambda_.function_urls import FunctionUrlOperations
from lambdamaker.services.lambda_.inbound import InboundOperations
from lambdamaker.services.lambda_.invoke import InvokeOperations
from lambdamaker.services.lambda_.layers import LayerOperations
from lambdamaker.services.lambda_.lifecycle import Activator
from lambdamaker.services.lambda_.mappings.api import EventSourceMappingOperations
from lambdamaker.services.lambda_.mappings.manager import MappingManager
from lambdamaker.services.lambda_.mappings.tables import MIGRATIONS as ESM_MIGRATIONS
from lambdamaker.services.lambda_.permissions import PermissionOperations
from lambdamaker.services.lambda_.role_keys import RoleCredentials
from lambdamaker.services.lambda_.tables import MIGRATIONS, layer_versions, versions
from lambdamaker.services.lambda_.targets import TargetCache
from lambdamaker.services.lambda_.versions import VersionOperations

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.lambda")


class LambdaProvider(
    VersionOperations,  # includes FunctionOperations
    AliasOperations,
    LayerOperations,
    ConcurrencyOperations,
    PermissionOperations,
    InvokeOperations,
    EventConfigOperations,
    InboundOperations,
    EventSourceMappingOperations,
    FunctionUrlOperations,
):
    """AWS Lambda (``lambda``, API version 2015-03-31) on the platform's store and engine."""

    migrations = [*MIGRATIONS, *ESM_MIGRATIONS, *URL_MIGRATIONS]
    inline_operations = frozenset(
        {
            "GetFunction",
            "GetFunctionConfiguration",
            "GetAlias",
            "GetPolicy",
            "GetFunctionConcurrency",
            "ListTags",
            "GetLayerVersion",
            "GetLayerVersionByArn",
            "GetAccountSettings",
            "GetFunctionEventInvokeConfig",
        }
    )

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        config = platform.config
        self.arns = Arns(config.region, config.account_id)
        self.functions_dir = config.data_dir / "functions"
        self.code = CodeStore(platform.blobs("lambda"), self.functions_dir)
        self.role_credentials = RoleCredentials(
            platform.store, platform.credentials, config.account_id
        )
        self.targets = TargetCache(
            platform.store, self.code, self.arns, self.role_credentials, self.endpoint_url
        )
        self.activator = Activator(platform.store, self.code, self.targets.invalidate)
        self.engine = EngineLink(
            platform, self.functions_dir / "engine", platform.config.account_concurrency
        )
        self.dispatcher = EventDispatcher(EventQueue(platform.store), self.attempt_event)
        self.esm_manager = MappingManager(self)

    def endpoint_url(self) -> str:
        """Where boto3 inside a function reaches this platform."""
        return self.platform.local_endpoint()

    def start(self) -> None:
        self._sweep()
        self.engine.start()
        self.activator.start()
        self.restore_concurrency()
        self.dispatcher.start()
        self.esm_manager.start()

    def close(self) -> None:
        self.esm_manager.close()
        self.dispatcher.close()
        self.activator.close()
        self.engine.close()

    def _sweep(self) -> None:
        """Remove code blobs and trees that no version or layer references (crash leftovers)."""
        blobs: set[str] = set()
        trees: dict[str, set[str]] = {"code": set(), "layers": set()}
        with self.store.read() as conn:
            for row in conn.execute(
                sa.select(versions.c.code_blob, versions.c.code_hex, versions.c.config)
            ):
                blobs.add(row.code_blob)
                trees["code"].add(row.code_hex)
                for layer in orjson.loads(row.config).get("Layers") or []:
                    blobs.add(layer["Blob"])
                    trees["layers"].add(layer["Hex"])
            for layer_row in conn.execute(
                sa.select(layer_versions.c.code_blob, layer_versions.c.code_hex)
            ):
                blobs.add(layer_row.code_blob)
                trees["layers"].add(layer_row.code_hex)
        removed = self.code.sweep(blobs, trees)
        if removed:
            log.info("lambda: removed %d unreferenced code blob(s) or tree(s)", removed)

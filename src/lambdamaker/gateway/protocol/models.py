"""botocore service models: loaded once per process, plus the shape facts every codec needs.

Loading a model costs tens of milliseconds (S3 and SageMaker close to 100 ms), so models are
cached for the life of the process. Everything derived from a model (routing tables, compiled
readers and writers) hangs off ``ServiceProtocol``, which is itself cached per service.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape, StructureShape

from lambdamaker.errors import ConfigError

SUPPORTED_PROTOCOLS = ("json", "rest-json", "rest-xml", "query")

_loader_lock = threading.Lock()


@functools.cache
def _loader() -> Loader:
    return Loader()


def raw_service_description(service_name: str) -> dict[str, Any]:
    """botocore's model document of ``service_name``; shared, so callers must not mutate it."""
    with _loader_lock:  # botocore's loader caches in plain dicts; keep the first load single.
        try:
            data: dict[str, Any] = _loader().load_service_model(service_name, "service-2")
        except Exception as exc:  # botocore raises several unrelated types for "not found"
            raise ConfigError(f"no botocore model for service {service_name!r}") from exc
    return data


@functools.cache
def load_service_model(service_name: str) -> ServiceModel:
    """The botocore model of ``service_name`` (``s3``, ``lambda``...), loaded once."""
    return ServiceModel(raw_service_description(service_name), service_name=service_name)


def resolve_protocol(model: ServiceModel) -> str:
    """The wire protocol this server speaks for ``model``: the one botocore picks.

    Newer models list several protocols (CloudWatch: smithy-rpc-v2-cbor, json, query); botocore
    picks the first it supports in its own priority order, so clients built on the installed
    botocore speak that one. We support the subset of that order we implement.
    """
    listed = model.metadata.get("protocols") or [model.metadata.get("protocol")]
    for candidate in ("json", "rest-json", "rest-xml", "query"):
        if candidate in listed:
            return candidate
    raise ConfigError(f"service {model.service_name!r} speaks none of {SUPPORTED_PROTOCOLS}")


# --- shape facts -------------------------------------------------------------------------------


def shape_key(shape: Shape) -> tuple[Any, ...]:
    """Memo key of a shape as referenced: its name plus the member-level traits merged into it.

    botocore merges a member's traits (``locationName``, ``timestampFormat``, ``flattened``,
    ``jsonvalue``...) into the shape it returns, so one shape name can serialize differently
    depending on where it is referenced.
    """
    ser = shape.serialization
    traits = tuple(sorted((k, repr(v)) for k, v in ser.items() if k not in ("name", "location")))
    return (shape.name, shape.type_name, traits)


def wire_name(member: Shape, default: str) -> str:
    return str(member.serialization.get("name", default))


def is_flattened(shape: Shape) -> bool:
    return bool(shape.serialization.get("flattened"))


def timestamp_format(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("timestampFormat", default)).lower()


def payload_member(shape: StructureShape | None) -> str | None:
    if shape is None:
        return None
    name = shape.serialization.get("payload")
    return str(name) if name else None


def exception_shapes(model: ServiceModel) -> dict[str, StructureShape]:
    """Every modelled error of the service by shape name (``ResourceNotFoundException``)."""
    out: dict[str, StructureShape] = {}
    for name in model.shape_names:
        shape = model.shape_for(name)
        if isinstance(shape, StructureShape) and shape.metadata.get("exception"):
            out[name] = shape
    return out

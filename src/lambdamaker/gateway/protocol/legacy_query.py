"""The ``query`` protocol of services that moved to JSON but still accept their old query form.

SQS's botocore model became JSON-only (``awsQueryCompatible``), yet older SDKs and raw HTTP
clients still send ``Action=SendMessage&QueueUrl=...&Version=2012-11-05`` and expect XML back.
``legacy_query_model(name)`` rebuilds the query model from the JSON one: same operations and
shapes, plus the wire names the JSON model dropped (``Attribute.N.Name``, ``MessageAttribute.N
.Value.StringValue``, ``SendMessageBatchRequestEntry.N.Id``, ``<Message>``...), each operation's
``<OpResult>`` wrapper, the XML namespace and the legacy error codes. The names come from the
2012-11-05 query model AWS published (``_SQS``); nothing else is invented.

Invariants: the rebuilt model has exactly the JSON model's operations and member names, so a
provider sees the same params whichever protocol a request used; only wire names differ.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from botocore.model import ServiceModel

from lambdamaker.errors import ConfigError
from lambdamaker.gateway.protocol.codes import LEGACY_QUERY_CODES
from lambdamaker.gateway.protocol.models import raw_service_description


class _Overlay:
    def __init__(
        self,
        namespace: str,
        list_members: dict[str, str],
        map_entries: dict[str, tuple[str, str]],
        members: dict[tuple[str, str], str],
        path_member: str | None = None,
    ) -> None:
        self.namespace = namespace
        self.path_member = path_member
        """The input member a request sent to a resource URL's path implies (``QueueUrl``)."""
        self.list_members = list_members
        """List shape -> its member's ``locationName`` (lists the model flattens or not)."""
        self.map_entries = map_entries
        """Map shape -> (key name, value name)."""
        self.members = members
        """(structure shape, member) -> ``locationName``."""


_SQS = _Overlay(
    namespace="http://queue.amazonaws.com/doc/2012-11-05/",
    path_member="QueueUrl",
    list_members={
        "AWSAccountIdList": "AWSAccountId",
        "ActionNameList": "ActionName",
        "AttributeNameList": "AttributeName",
        "BatchResultErrorEntryList": "BatchResultErrorEntry",
        "BinaryList": "BinaryListValue",
        "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
        "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
        "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
        "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
        "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
        "MessageAttributeNameList": "MessageAttributeName",
        "MessageList": "Message",
        "MessageSystemAttributeList": "MessageSystemAttributeName",
        "QueueUrlList": "QueueUrl",
        "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
        "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
        "StringList": "StringListValue",
        "TagKeyList": "TagKey",
    },
    map_entries={
        "MessageBodyAttributeMap": ("Name", "Value"),
        "MessageBodySystemAttributeMap": ("Name", "Value"),
        "MessageSystemAttributeMap": ("Name", "Value"),
        "QueueAttributeMap": ("Name", "Value"),
        "TagMap": ("Key", "Value"),
    },
    members={
        ("CreateQueueRequest", "Attributes"): "Attribute",
        ("CreateQueueRequest", "tags"): "Tag",
        ("GetQueueAttributesResult", "Attributes"): "Attribute",
        ("ListQueueTagsResult", "Tags"): "Tag",
        ("Message", "Attributes"): "Attribute",
        ("Message", "MessageAttributes"): "MessageAttribute",
        ("MessageAttributeValue", "StringListValues"): "StringListValue",
        ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
        ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
        ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
        ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
        ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
        ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
        ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
        ("SetQueueAttributesRequest", "Attributes"): "Attribute",
        ("TagQueueRequest", "Tags"): "Tag",
    },
)

_OVERLAYS = {"sqs": _SQS}


def path_member(model: ServiceModel) -> str | None:
    """The member a legacy query request's URL path stands for, if the service has one."""
    overlay = _OVERLAYS.get(model.service_name)
    return overlay.path_member if overlay is not None else None


def accepts_legacy_query(model: ServiceModel) -> bool:
    """True when ``model`` is JSON-only but its service still answers the query protocol."""
    listed = model.metadata.get("protocols") or [model.protocol]
    return "query" not in listed and model.service_name in _OVERLAYS


@functools.cache
def legacy_query_model(service_name: str) -> ServiceModel:
    return ServiceModel(legacy_query_description(service_name), service_name=service_name)


def legacy_query_description(service_name: str) -> dict[str, Any]:
    """The query model as a botocore model document (a fresh copy: tests load it in botocore)."""
    overlay = _OVERLAYS.get(service_name)
    if overlay is None:
        raise ConfigError(f"{service_name} has no legacy query protocol")
    data: dict[str, Any] = copy.deepcopy(raw_service_description(service_name))
    md = data["metadata"]
    for key in ("targetPrefix", "jsonVersion", "awsQueryCompatible"):
        md.pop(key, None)
    md["protocol"] = "query"
    md["protocols"] = ["query"]
    md["xmlNamespace"] = overlay.namespace
    for name, op in data["operations"].items():
        output = op.get("output")
        if output is not None:
            output["resultWrapper"] = f"{name}Result"
    shapes: dict[str, Any] = data["shapes"]
    for name, location in overlay.list_members.items():
        shapes[name]["member"]["locationName"] = location
    for name, (key, value) in overlay.map_entries.items():
        shapes[name]["key"]["locationName"] = key
        shapes[name]["value"]["locationName"] = value
    for (shape, member), location in overlay.members.items():
        shapes[shape]["members"][member]["locationName"] = location
    for shape_name, code in LEGACY_QUERY_CODES.get(service_name, {}).items():
        error_shape = shapes.get(shape_name)
        if error_shape is not None:
            error_shape.setdefault("error", {})["code"] = code
    return data

"""The AWS wire protocols, driven by botocore's service models.

``ServiceProtocol.for_service(name)`` answers, for any operation of any service speaking
``json`` (including ``awsQueryCompatible`` services), ``rest-json``, ``rest-xml`` or ``query``:

    request ──find_operation──▶ OperationModel ──parse──▶ params ──validate──▶ provider
    result/ServiceError ──serialize/serialize_error──▶ HttpResponse

Invariants:

- Nothing here knows an operation by name, except the few documented S3 quirks in
  ``codes`` (root element names) and ``serializer`` (GetBucketLocation). Everything else
  comes from the model: member locations, names, formats, flattening, namespaces.
- Bad input of any kind (unparseable body, wrong value type, unknown operation, violated
  constraint) raises ``ServiceError`` with the code and status the real service uses
  (``codes``); no other exception leaves ``find_operation``, ``parse`` or ``validate``.
- What we serialize is what botocore parses back to the same dict; the protocol test suites
  and model-wide round trips in ``tests/protocol`` hold us to it.
- The request path is cheap: models load once per process; each operation's parse, validate
  and serialize plans are compiled once into closures; JSON goes through orjson and XML is
  written as text, never as a tree. awsJson bodies are read and validated in one pass by
  source generated per shape (``json_fused``), the closures being the fallback that reports
  errors; JSON writers hand unchanged results to orjson without copying them.

Modules: ``models`` (loading), ``operations`` (finding the operation), ``parser`` +
``json_fused``/``json_codec``/``xml_codec``/``query_codec`` (reading), ``serializer`` + ``errors_wire``
(writing), ``validate`` + ``patterns`` (constraints), ``values`` (scalars), ``codes`` (the error
code table), ``http``/``body`` (the HTTP view shared with the gateway).
"""

from lambdamaker.gateway.protocol.body import Body, FileSlice, StreamPayload
from lambdamaker.gateway.protocol.http import HttpRequest, HttpResponse
from lambdamaker.gateway.protocol.service import ServiceProtocol

__all__ = [
    "Body",
    "FileSlice",
    "HttpRequest",
    "HttpResponse",
    "ServiceProtocol",
    "StreamPayload",
]

"""AWS Lambda: functions, versions, aliases, layers, concurrency, permissions and Invoke.

The provider translates Lambda's API into store rows and engine calls; functions run in the
functions engine (``engines.functions``), which knows nothing of this API.

Where things live:
- Metadata (functions, versions, aliases, layers, provisioned configs, policies, tags, the
  async event queue) in the platform's SQL store (``tables``).
- Deployment packages as blobs in ``platform.blobs("lambda")``, unpacked once per content into
  ``<data>/functions/code/<sha256>`` and ``<data>/functions/layers/<sha256>`` (``code``).
- The engine's environments under ``<data>/functions/engine`` (``engine_link``).

Invariants:
- Bad input gets Lambda's error code, status and message and changes nothing: everything is
  validated before one write transaction, and a package is checked and unpacked before any row
  refers to it (``functions``, ``code``).
- State moves Pending → Active and LastUpdateStatus InProgress → Successful in the background
  (``lifecycle``), as boto3's waiters expect; RevisionId changes with every change.
- The sync invoke path does no SQL: targets are cached in memory and dropped on every committed
  change (``targets``). Async invocations are committed before the 202 and run at least once
  (``events``).
- Functions' boto3 talks to this platform: specs carry the platform's endpoint and temporary
  credentials of the execution role (``role_keys``).

Modules, one concept each: ``provider`` (composition, start-up), ``functions``, ``versions``,
``aliases``, ``layers``, ``concurrency``, ``permissions`` (and tags), ``invoke``, ``events``,
``targets``, ``lifecycle``, ``code``, ``sources``, ``configuration``, ``validation``,
``records``, ``tables``, ``arns``, ``paging``, ``role_keys``, ``engine_link``, ``errors``,
``limits``.
"""

from lambdamaker.services.lambda_.provider import LambdaProvider

__all__ = ["LambdaProvider"]

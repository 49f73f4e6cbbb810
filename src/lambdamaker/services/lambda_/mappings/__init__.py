"""Event source mappings: Lambda polling SQS queues, Kinesis streams and DynamoDB streams and
invoking a function with batches of records.

Layout (one concept per module):

- ``model``: the ``Mapping`` settings as stored, and the ``StreamSource`` protocol that Kinesis
  and DynamoDB Streams implement for the stream poller.
- ``tables``: the mappings and their per-shard checkpoints, durable in the store.
- ``invoker``: a synchronous, in-process invocation of the mapped function (no HTTP).
- ``filters``: FilterCriteria (EventBridge patterns over the record as Lambda sees it).
- ``api``: Create/Update/Delete/Get/ListEventSourceMappings.
- ``manager``: starts and stops one poller per enabled mapping.
- ``sqs_source`` / ``stream_poller``: the pollers.

Invariants shared by every poller:

- A record is passed to the function only in a batch of its own source (one queue, or one
  shard), in the source's order for streams.
- Progress (a deleted SQS message, a stream checkpoint) is committed only after the function
  succeeded for it, or after it was sent to the OnFailure destination, or dropped by a filter:
  a crash between invoke and commit re-delivers (at least once), never skips.
"""

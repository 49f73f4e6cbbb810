"""Amazon S3: buckets, objects, listings, multipart uploads, event notifications.

Where things live:
- Metadata (buckets, object rows, uploads, parts) in the platform's SQL store (``tables``).
- Object bytes in ``platform.blobs("s3")`` (``ObjectStore``): immutable blobs named by random ids.
  An object row points at exactly one blob; a part row at one blob.

Durability invariants (the reason for the order of every write):
1. Bytes first. ``ObjectStore.put_body`` renames the gateway's spooled upload into place after
   fsync (``put_chunks`` / ``concat`` / ``copy`` likewise), so a blob exists whole or not at all.
2. Then the row. The metadata row naming the blob is committed in one ``store.begin()``
   transaction only after the blob is durable. Readers see the old object or the new one,
   never a partial one: a ``kill -9`` mid-upload leaves at most an unreferenced blob.
3. Then the garbage. An overwrite or delete removes the blob it replaced only after the commit
   that dropped the last reference to it; a crash in between leaves an unreferenced blob.
4. At ``start()`` the provider sweeps every blob referenced by neither ``s3_objects`` nor
   ``s3_parts`` (``ObjectStore.sweep``); the platform has already removed stale spool files.
   The blob store is S3's own namespace (``objects/s3/``): other owners keep theirs apart.

Reads: GetObject and HeadObject run one SELECT; GetObject returns a ``BlobSlice`` (a
``FileSlice`` whose file is already open, so an overwrite racing the response cannot pull the
bytes away) and the server streams it, so a 5 GB object never sits in memory. Writes run one
transaction. The provider never reads a large body into memory: bodies are hashed and copied in
1 MiB chunks, and ``Body.read()`` is used only for in-memory bodies.

Event notifications (``events``, ``notifications``): every object write or delete hands its
event records to SQS, SNS or Lambda inside the same transaction that commits the change, so an
acknowledged change always has its notifications and a failed one has none.

Errors are S3's own codes, statuses, messages and extra members (``errors``); names and keys
are validated as S3 validates them (``names``).
"""

from lambdamaker.services.s3.provider import S3Provider

__all__ = ["S3Provider"]

"""The gateway: one HTTP port that speaks the AWS wire protocols.

Per request: route to a service (credential scope, ``X-Amz-Target``, S3 host or path) → find the
operation → read (or spool) the body → authenticate (SigV4) → authorize (hook) → parse and
validate against the botocore model → ``provider.operation(ctx, params)`` → serialize the result
or an AWS-shaped error. Every error a user can trigger leaves as the service's own error shape;
nothing leaves as a bare 500 traceback.
"""

"""Events engines: event-driven delivery machinery (filter policies, patterns, queues,
schedules), free of HTTP and botocore."""

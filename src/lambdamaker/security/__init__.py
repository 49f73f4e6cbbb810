"""Security: access keys and temporary credentials, policy documents, (later) IAM evaluation."""

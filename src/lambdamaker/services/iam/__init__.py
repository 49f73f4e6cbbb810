"""IAM: roles, managed and inline policies, users, access keys and tags, stored and validated.

What it guarantees now (enforcement of policies comes with the security work):
- Inputs are validated as IAM validates them (names, paths, tags, documents, quotas) and bad
  input gets IAM's error code, status and message, and changes nothing: every operation runs in
  one store transaction.
- Policy documents are checked by ``security.policy`` (the parser the evaluator will reuse) and
  stored verbatim; responses carry them URL-encoded, as IAM does, which botocore decodes back
  into the dict the user sent.
- Access keys are the credential store's rows, so IAM-created keys authenticate immediately.
- A handful of AWS managed policies exist (``managed.CATALOGUE``) so that code attaching
  ``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`` and friends works.

Modules, one concept each: ``tables`` (schema and migrations), ``roles``, ``role_policies``
(attached and inline), ``policies`` (managed policies and versions), ``users`` (users and
access keys), ``tags``, ``managed`` (the catalogue), ``validation``, ``errors``, ``common``.
"""

from lambdamaker.services.iam.provider import IamProvider
from lambdamaker.services.iam.roles import RoleInfo

__all__ = ["IamProvider", "RoleInfo"]

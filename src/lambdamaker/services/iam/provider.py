"""``IamProvider``: the IAM operations of each concept module, combined."""

from __future__ import annotations

from lambdamaker.services.iam.policies import PolicyOperations, sync_catalogue
from lambdamaker.services.iam.role_policies import RolePolicyOperations
from lambdamaker.services.iam.roles import RoleOperations
from lambdamaker.services.iam.tags import TagOperations
from lambdamaker.services.iam.users import UserOperations


class IamProvider(
    RoleOperations, RolePolicyOperations, PolicyOperations, UserOperations, TagOperations
):
    service = "iam"

    def start(self) -> None:
        with self.platform.store.begin() as conn:
            sync_catalogue(conn)

"""Get/PutFunctionRecursionConfig: whether Lambda stops a function's recursive loops.

``Terminate`` (the default) stops an invocation that would run the function a 17th time in one
chain (``lineage``); ``Allow`` lets the chain go on. The setting is per function (all its
versions and aliases), stored on ``lambda_functions`` and carried to the invoke path by the
target cache (``Target.loop_allowed``), which a change invalidates.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lambdamaker.errors import InvalidParameterValueError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.tables import functions

_VALUES = ("Allow", "Terminate")


class RecursionOperations(LambdaBase):
    def _unqualified(self, params: dict[str, Any]) -> str:
        name, qualifier = self.arns.parse_function(params["FunctionName"], None)
        if qualifier is not None:
            raise InvalidParameterValueError(
                "The recursion configuration applies to a function, not to a version or alias: "
                "use an unqualified function name or ARN."
            )
        return name

    def get_function_recursion_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = self._unqualified(params)
        with self.store.read() as conn:
            row = self.function_row(conn, name)
        return {"RecursiveLoop": row.recursive_loop or "Terminate"}

    def put_function_recursion_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = self._unqualified(params)
        value = params["RecursiveLoop"]
        if value not in _VALUES:
            raise InvalidParameterValueError(
                f"RecursiveLoop must be one of {', '.join(_VALUES)}, not {value!r}."
            )
        with self.store.begin() as conn:
            self.function_row(conn, name)
            conn.execute(
                sa.update(functions)
                .where(functions.c.name == name)
                .values(recursive_loop=None if value == "Terminate" else value)
            )
            self.changed(conn, name)
        return {"RecursiveLoop": value}

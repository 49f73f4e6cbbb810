"""Public helpers for testing code against lambdamaker: a real server in a child process."""

from lambdamaker.testing.postgres import TemporaryPostgres
from lambdamaker.testing.server import ServerProcess

__all__ = ["ServerProcess", "TemporaryPostgres"]

"""Public helpers for testing code against lambdamaker: a real server in a child process."""

from lambdamaker.testing.server import ServerProcess

__all__ = ["ServerProcess"]

"""Public helpers for testing code against lambdamaker: a real server in a child process,
a throwaway PostgreSQL, function packages and a fake clock."""

from lambdamaker.testing.clock import FakeClock
from lambdamaker.testing.packages import zip_files, zip_source
from lambdamaker.testing.postgres import TemporaryPostgres
from lambdamaker.testing.server import ServerProcess

__all__ = ["FakeClock", "ServerProcess", "TemporaryPostgres", "zip_files", "zip_source"]

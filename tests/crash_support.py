"""What the crash tests share: a server that is killed and restarted on one data dir, with
clients that follow it, and function packages built from source text."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lambdamaker.testing import ServerProcess, zip_files

__all__ = ["Server", "zip_files"]


class Server:
    """The server under test, its restarts, and what clients need to follow them: each restart
    starts a new *generation* (a new port); a client that failed waits for a newer one."""

    def __init__(self, data: Path) -> None:
        self.process = ServerProcess(data)
        self.generation = 0
        self.failed = False
        self.cond = threading.Condition()
        self.process.start()
        self.key, self.secret = self.process.credentials()

    def current(self) -> tuple[int, str]:
        with self.cond:
            return self.generation, self.process.endpoint_url

    def restart(self) -> None:
        try:
            self.process.start()
        except BaseException:
            self.abandon()
            raise
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def abandon(self) -> None:
        """The test failed: clients stop retrying."""
        with self.cond:
            self.failed = True
            self.cond.notify_all()

    def wait_newer(self, generation: int, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.generation > generation or self.failed, timeout)
            if self.failed:
                raise RuntimeError("the test failed; clients stop")

    def client(self, service: str, endpoint: str) -> Any:
        # A session per client: boto3's default session is not safe to share across threads.
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            config=Config(
                retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, tcp_keepalive=True
            ),
        )

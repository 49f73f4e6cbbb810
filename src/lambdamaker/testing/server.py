"""A real lambdamaker server in a child process, on an ephemeral port.

Used by our integration tests and offered to users for theirs. The child is started with
``--port 0``; the parent waits for ``<data-dir>/server.json`` and the health endpoint. ``stop()``
sends SIGTERM (a clean shutdown); ``kill()`` sends SIGKILL (a crash), after which ``start()`` on
the same data dir is a restart.
"""

from __future__ import annotations

import configparser
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any


class ServerProcess:
    def __init__(
        self, data_dir: Path, *, extra_args: list[str] | None = None, log_path: Path | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args or [])
        self.log_path = log_path or self.data_dir.parent / f"{self.data_dir.name}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint_url = ""
        self.port = 0

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state = self.data_dir / "server.json"
        if state.exists():
            state.unlink()
        cmd = [
            sys.executable,
            "-m",
            "lambdamaker",
            "server",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n{self.log()}")
            if state.exists():
                info = json.loads(state.read_text())
                self.endpoint_url = info["endpoint"]
                self.port = int(info["port"])
                if self._healthy():
                    return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server not ready after {timeout}s; log:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint_url + "/_lambdamaker/health", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.endpoint_url + "/_lambdamaker/health", timeout=5) as r:
            result: dict[str, Any] = json.loads(r.read())
            return result

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    def credentials(self) -> tuple[str, str]:
        cp = configparser.ConfigParser()
        cp.read(self.credentials_file)
        return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]

    @property
    def access_key(self) -> str:
        return self.credentials()[0]

    @property
    def secret_key(self) -> str:
        return self.credentials()[1]

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for ``service`` signed with the admin key, retries off."""
        import boto3
        from botocore.config import Config

        key, secret = self.credentials()
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: a clean shutdown. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, as ``kill -9`` would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Connections pinned to one process of a server started with ``--workers``, and signed raw
requests over them (botocore's own SigV4 signers).

The kernel spreads connections across the processes' sockets (``SO_REUSEPORT``); a test that
must reach one process opens connections until the kernel gives it one that process accepted.
Which process owns a connection is read from ``/proc``: the server side of the connection is a
socket inode in ``/proc/net/tcp``, and one process holds a descriptor to it.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdamaker.testing import ServerProcess


def worker_pids(server: ServerProcess) -> list[int]:
    """Live children of the server's primary that run ``lambdamaker worker``."""
    assert server.proc is not None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == server.proc.pid and b"worker" in cmdline and fields[0] != "Z":
            found.append(int(entry))
    return found


def _server_side_inode(server_port: int, client_port: int) -> int | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote, inode = parts[1], parts[2], int(parts[9])
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return inode
    return None


def owner(conn: http.client.HTTPConnection, server_port: int, pids: list[int]) -> int | None:
    """The pid (of ``pids``) that accepted ``conn``."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        inode = _server_side_inode(server_port, client_port)
        if inode is not None:
            target = f"socket:[{inode}]"
            for pid in pids:
                try:
                    fds = os.listdir(f"/proc/{pid}/fd")
                except OSError:
                    continue
                for fd in fds:
                    try:
                        if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                            return pid
                    except OSError:
                        continue
        time.sleep(0.02)  # accepted a moment later
    return None


class Pinned:
    """A keep-alive connection accepted by one process, sending signed requests."""

    def __init__(self, server: ServerProcess, pid: int) -> None:
        self.server = server
        key, secret = server.credentials()
        self.credentials = Credentials(key, secret)
        host, port = server.endpoint_url.split("//", 1)[1].rsplit(":", 1)
        self.host, self.port = host, int(port)
        for _ in range(200):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            conn.connect()
            if owner(conn, self.port, [server.proc.pid, *worker_pids(server)]) == pid:  # type: ignore[union-attr]
                self.conn = conn
                return
            conn.close()
        raise AssertionError(f"no connection landed on process {pid}")

    def request(
        self,
        service: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        credentials: Credentials | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        url = f"{self.server.endpoint_url}{path}"
        req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
        creds = credentials or self.credentials
        signer = S3SigV4Auth if service == "s3" else SigV4Auth
        if service == "s3":
            req.context["payload_signing_enabled"] = True
        signer(creds, service, "us-east-1").add_auth(req)
        prepared = req.prepare()
        self.conn.request(method, prepared.url.split(str(self.port), 1)[1] or "/", body=body,
                          headers=dict(prepared.headers.items()))  # fmt: skip
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def dynamodb(
        self, operation: str, params: dict[str, Any], credentials: Credentials | None = None
    ) -> tuple[int, dict[str, Any]]:
        status, _, data = self.request(
            "dynamodb",
            "POST",
            "/",
            json.dumps(params).encode(),
            {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            },
            credentials,
        )
        return status, json.loads(data) if data else {}

    def close(self) -> None:
        self.conn.close()

"""Run the platform as a server: start the platform, bind the port, serve until signalled.

uvicorn (uvloop + httptools) serves the ASGI app. On SIGTERM or Ctrl-C uvicorn stops accepting,
lets in-flight requests finish, then runs the lifespan shutdown, which closes the providers and
the store. Once the port is bound, ``<data-dir>/server.json`` names the endpoint (tools and tests
read it, which makes ``--port 0`` usable); it is removed on a clean exit. With ``--workers N``
the primary also starts N-1 data-plane workers on the same port (``lambdamaker.workers``) and
serves their forwarded requests on a Unix socket; ``server.json`` lists their pids, rewritten
when a replacement for a worker that died serves. If a worker does not start, the primary stops
the others, closes the platform and exits with status 1 and a one-line reason.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
from typing import Any

import uvicorn

from lambdamaker.config import PlatformConfig
from lambdamaker.gateway.app import create_app
from lambdamaker.gateway.coalesce import CoalescingHttpToolsProtocol
from lambdamaker.platform import Platform
from lambdamaker.store.objects import write_file_atomic
from lambdamaker.workers import (
    WorkerStartFailed,
    WorkerSupervisor,
    bind_primary,
    bind_unix,
    primary_socket_address,
)

log = logging.getLogger("lambdamaker")


def uvicorn_server(app: Any) -> uvicorn.Server:
    """How every process of the server serves its ASGI app (uvloop + httptools, writes
    coalesced)."""
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http=CoalescingHttpToolsProtocol,  # one socket write per response (coalesce.py)
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
        server_header=False,
        proxy_headers=False,  # nothing reads the client address; saves a middleware per request
    )
    return uvicorn.Server(config)


def banner(endpoint: str, config: PlatformConfig) -> str:
    creds = config.credentials_file
    auth = "" if config.auth else "\n  (--no-auth: signatures are NOT checked)"
    return f"""lambdamaker is ready at {endpoint}{auth}
  data dir:    {config.data_dir}
  credentials: {creds}   (profile [default]; the secret is in the file, not here)

Try it from another shell:

  import os, boto3
  os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "{creds}"
  s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="{config.region}")
  s3.create_bucket(Bucket="demo"); s3.put_object(Bucket="demo", Key="hello.txt", Body=b"hi")
  print(s3.get_object(Bucket="demo", Key="hello.txt")["Body"].read())
"""


def run_server(config: PlatformConfig) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Bind first: providers learn the real endpoint (with --port 0) before they start, so work
    # resumed at start-up (async invocations) already calls back to the right address.
    try:
        sock = bind_primary(config.host, config.port, config.workers)
    except OSError as exc:
        print(f"lambdamaker: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    sock.listen(2048)  # connections made before uvicorn serves wait in the backlog
    host, port = sock.getsockname()[:2]
    display_host = f"[{host}]" if ":" in host else host
    endpoint = f"http://{display_host}:{port}"
    platform = Platform(config)
    platform.endpoint_url = endpoint
    platform.start()
    app = create_app(platform)
    state_file = config.data_dir / "server.json"
    state: dict[str, Any] = {"endpoint": endpoint, "pid": os.getpid(), "port": port}

    def write_state(workers: list[int] | None = None) -> None:
        if workers is not None:
            state["workers"] = workers
        write_file_atomic(state_file, json.dumps(state).encode())

    sockets = [sock]
    supervisor: WorkerSupervisor | None = None
    if config.workers > 1:
        # Data-plane workers share the port and pass what they don't serve to this process's
        # Unix socket (lambdamaker.workers). server.json is written once they all serve, and
        # again whenever a replacement serves.
        primary = primary_socket_address()
        sockets.append(bind_unix(primary))
        supervisor = WorkerSupervisor(config, host, port, primary, endpoint, write_state)
        app.before_close.append(supervisor.stop)
        try:
            supervisor.start()
        except WorkerStartFailed as exc:
            print(f"lambdamaker: {exc}; stopping", file=sys.stderr, flush=True)
            supervisor.stop()
            for s in sockets:
                s.close()
            platform.close()
            raise SystemExit(1) from None
    else:
        write_state()
    server = uvicorn_server(app)
    log.info("credentials file: %s", config.credentials_file)
    print(banner(endpoint, config), file=sys.stdout, flush=True)
    # uvicorn handles SIGTERM/SIGINT itself (graceful drain, lifespan shutdown) and then
    # re-raises the signal to whatever handler was installed before it. A no-op here makes a
    # graceful shutdown end with exit status 0 instead of dying by the re-raised signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    # What start-up allocated (modules, models, caches) lives as long as the process: keep it
    # out of every later full collection, which would otherwise scan it each time (~25 ms).
    gc.freeze()
    try:
        server.run(sockets=sockets)
    finally:
        if supervisor is not None:
            supervisor.stop()
        try:
            state_file.unlink()
        except FileNotFoundError:
            pass
        if platform._started:
            platform.close()

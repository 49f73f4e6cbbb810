"""Run the platform as a server: start the platform, bind the port, serve until signalled.

uvicorn (uvloop + httptools) serves the ASGI app. On SIGTERM or Ctrl-C uvicorn stops accepting,
lets in-flight requests finish, then runs the lifespan shutdown, which closes the providers and
the store. Once the port is bound, ``<data-dir>/server.json`` names the endpoint (tools and tests
read it, which makes ``--port 0`` usable); it is removed on a clean exit.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys

import uvicorn

from lambdamaker.config import PlatformConfig
from lambdamaker.gateway.app import create_app
from lambdamaker.platform import Platform
from lambdamaker.store.objects import write_file_atomic

log = logging.getLogger("lambdamaker")


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


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
    sock = bind_socket(config.host, config.port)
    sock.listen(2048)  # connections made before uvicorn serves wait in the backlog
    host, port = sock.getsockname()[:2]
    display_host = f"[{host}]" if ":" in host else host
    endpoint = f"http://{display_host}:{port}"
    platform = Platform(config)
    platform.endpoint_url = endpoint
    platform.start()
    app = create_app(platform)
    uv_config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
        server_header=False,
        proxy_headers=False,  # nothing reads the client address; saves a middleware per request
    )
    server = uvicorn.Server(uv_config)
    state_file = config.data_dir / "server.json"
    write_file_atomic(
        state_file,
        json.dumps({"endpoint": endpoint, "pid": os.getpid(), "port": port}).encode(),
    )
    log.info("credentials file: %s", config.credentials_file)
    print(banner(endpoint, config), file=sys.stdout, flush=True)
    # uvicorn handles SIGTERM/SIGINT itself (graceful drain, lifespan shutdown) and then
    # re-raises the signal to whatever handler was installed before it. A no-op here makes a
    # graceful shutdown end with exit status 0 instead of dying by the re-raised signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        server.run(sockets=[sock])
    finally:
        try:
            state_file.unlink()
        except FileNotFoundError:
            pass
        if platform._started:
            platform.close()

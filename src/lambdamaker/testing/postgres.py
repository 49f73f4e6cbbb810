"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temp dir, ``pg_ctl start``, drop.

    with TemporaryPostgres() as pg:
        store = Store(pg.create_database())   # a fresh, empty database per test

Design:
- The cluster lives entirely in one temp dir (data, log, unix socket) and listens on a free
  port of 127.0.0.1 only; ``stop()`` (or leaving the ``with``) shuts it down and deletes the
  dir. A finalizer does the same at interpreter exit if the owner forgot.
- PostgreSQL refuses to run as root. When we are root (here and in CI), ``initdb`` and
  ``pg_ctl`` run as an unprivileged user (``postgres`` or ``nobody``, else one made with
  ``useradd``) that owns the temp dir; otherwise they run as ourselves.
- Durability settings stay at PostgreSQL's defaults (``fsync=on``): tests of a durable store
  must not pass only because the database cut corners. Only ``initdb`` skips its final fsync
  (``--no-sync``): a crash during set-up loses a throwaway cluster, nothing else. Memory is kept
  small (``shared_buffers``) so several clusters fit on a small CI machine.
- Local (unix socket) connections are trusted; TCP connections need the random superuser
  password that the URL carries, so other users of a shared machine cannot walk in.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from lambdamaker.errors import StoreError

__all__ = ["TemporaryPostgres", "find_postgres_bin_dir"]

_SUPERUSER = "postgres"
_START_ATTEMPTS = 5  # a free port can be taken between our probe and the server's bind
_FALLBACK_USER = "lambdamaker-pg"


def find_postgres_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: on PATH, else the newest Debian install."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        # PATH may hold symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb);
        # pg_ctl must come from the same installation, so resolve before looking beside it.
        for candidate in (Path(initdb).parent, Path(initdb).resolve().parent):
            if (candidate / "pg_ctl").exists():
                return candidate
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]
    found = [p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if not found:
        return None

    def version(p: Path) -> tuple[int, ...]:
        try:
            return tuple(int(x) for x in p.parent.name.split("."))
        except ValueError:
            return (0,)

    return max(found, key=version)


@dataclass(frozen=True)
class _RunAs:
    """Who runs the server: ``None`` fields mean "ourselves" (we are not root)."""

    user: str | None = None
    uid: int | None = None
    gid: int | None = None


def _unprivileged_user() -> _RunAs:
    if os.geteuid() != 0:
        return _RunAs()
    for name in ("postgres", "nobody", _FALLBACK_USER):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid != 0:
            return _RunAs(name, pw.pw_uid, pw.pw_gid)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _FALLBACK_USER],
        check=True,
        capture_output=True,
    )
    pw = pwd.getpwnam(_FALLBACK_USER)
    return _RunAs(_FALLBACK_USER, pw.pw_uid, pw.pw_gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_cluster(
    pg_ctl: Path, data: Path, root: Path, run_as: _RunAs, env: dict[str, str]
) -> None:
    """Shut the server down (fast, then immediate) and delete its directory. Idempotent."""
    if (data / "postmaster.pid").exists():
        for mode in ("fast", "immediate"):
            proc = subprocess.run(
                [str(pg_ctl), "-D", str(data), "-m", mode, "-w", "-t", "30", "stop"],
                user=run_as.uid,
                group=run_as.gid,
                extra_groups=[] if run_as.uid is not None else None,
                env=env,
                cwd=root,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
            if proc.returncode == 0:
                break
    shutil.rmtree(root, ignore_errors=True)


class TemporaryPostgres:
    """A PostgreSQL cluster in a temp dir, for the life of a ``with`` block (or start/stop)."""

    def __init__(
        self,
        *,
        bin_dir: Path | None = None,
        base_dir: Path | None = None,
        shared_buffers: str = "16MB",
        max_connections: int = 100,
    ) -> None:
        found = Path(bin_dir) if bin_dir is not None else find_postgres_bin_dir()
        if found is None:
            raise StoreError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin_dir = found
        self.base_dir = base_dir
        self.shared_buffers = shared_buffers
        self.max_connections = max_connections
        self.port = 0
        self.root: Path | None = None
        self._password = secrets.token_hex(16)
        self._run_as = _unprivileged_user()
        self._finalizer: weakref.finalize[..., TemporaryPostgres] | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> TemporaryPostgres:
        if self.root is not None:
            raise StoreError("TemporaryPostgres already started")
        root = Path(tempfile.mkdtemp(prefix="lambdamaker-pg-", dir=self.base_dir))
        self.root = root
        env = self._env()
        self._finalizer = weakref.finalize(
            self, _stop_cluster, self.bin_dir / "pg_ctl", self.data_dir, root, self._run_as, env
        )
        try:
            if self._run_as.uid is not None:
                os.chown(root, self._run_as.uid, self._run_as.gid or -1)
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Shut the server down and delete everything it wrote. Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self.root = None

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ----------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._root() / "data"

    @property
    def url(self) -> str:
        """URL of the ``postgres`` maintenance database; use ``create_database`` for tests."""
        return self.url_for(_SUPERUSER)

    def url_for(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` in this cluster."""
        return (
            f"postgresql+psycopg://{_SUPERUSER}:{self._password}@127.0.0.1:{self.port}/{database}"
        )

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a random name by default) and return its URL."""
        name = name or f"lm_{uuid.uuid4().hex[:16]}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever is still connected to it."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database for the duration of the block; dropped afterwards."""
        url = self.create_database()
        try:
            yield url
        finally:
            self.drop_database(url.rsplit("/", 1)[1])

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=_SUPERUSER,
            password=self._password,
            dbname=_SUPERUSER,
            autocommit=True,  # CREATE/DROP DATABASE cannot run inside a transaction
        ) as conn:
            conn.execute(statement)

    # -- internals ----------------------------------------------------------------------------

    def _root(self) -> Path:
        if self.root is None:
            raise StoreError("TemporaryPostgres is not running")
        return self.root

    def _env(self) -> dict[str, str]:
        # PG* variables of the caller (PGDATA, PGPORT...) must not steer the throwaway cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # TZ spares initdb its scan of the zoneinfo database; C locale avoids missing-locale noise.
        env.update(HOME=str(self._root()), LC_ALL="C", LANG="C", TZ="UTC")
        return env

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary as the unprivileged user, stdout+stderr to a log file."""
        root = self._root()
        with open(root / "commands.log", "a+") as out:
            start = out.tell()
            proc = subprocess.run(
                [str(self.bin_dir / args[0]), *args[1:]],
                user=self._run_as.uid,
                group=self._run_as.gid,
                extra_groups=[] if self._run_as.uid is not None else None,
                env=self._env(),
                cwd=root,
                stdin=subprocess.DEVNULL,
                # A file, not a pipe: the postmaster that pg_ctl forks could otherwise hold a
                # pipe open and make us wait for its EOF forever.
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                text=True,
            )
            out.seek(start)
            proc.stdout = out.read()
        return proc

    def _initdb(self) -> None:
        root = self._root()
        pwfile = root / "pwfile"
        pwfile.write_text(self._password + "\n")
        if self._run_as.uid is not None:
            os.chown(pwfile, self._run_as.uid, self._run_as.gid or -1)
        proc = self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            _SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()
        if proc.returncode != 0:
            raise StoreError(f"initdb failed ({proc.returncode}):\n{proc.stdout}")

    def _start_server(self) -> None:
        root = self._root()
        log = root / "server.log"
        last = ""
        for _ in range(_START_ATTEMPTS):
            self.port = _free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={self.port}",
                    f"-c unix_socket_directories={root}",
                    f"-c shared_buffers={self.shared_buffers}",
                    f"-c max_connections={self.max_connections}",
                ]
            )
            proc = self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
            if proc.returncode == 0:
                return
            last = proc.stdout + _tail(log)
            if "could not bind" not in last and "already in use" not in last:
                break
        raise StoreError(f"pg_ctl start failed:\n{last}")


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""

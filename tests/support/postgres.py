"""A real PostgreSQL 15 server for the tests, started and stopped by them.

``initdb``/``pg_ctl`` refuse to run as root, so as root the cluster lives in a
folder owned by ``postgres`` and every command runs through ``runuser``. The
server listens on a free loopback port with trust authentication; nothing is
shared with a system cluster.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.wait import wait_until

PG_BIN = Path(os.environ.get("CANDLEBOT_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database (dropped first if it exists); returns its URL."""
        _run_as_owner(["psql", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", "postgres",
                       "-v", "ON_ERROR_STOP=1", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                       "-c", f'CREATE DATABASE "{name}"'], self.folder)
        return self.url(name)


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def _owner_prefix() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run_as_owner(argv: list[str], folder: Path) -> None:
    tool = str(PG_BIN / argv[0]) if (PG_BIN / argv[0]).exists() else argv[0]
    subprocess.run([*_owner_prefix(), tool, *argv[1:]], check=True, cwd=folder, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start() -> PostgresServer:
    folder = Path(tempfile.mkdtemp(prefix="candlebot-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    _run_as_owner(["initdb", "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"], folder)
    attempts = 3  # a free port may be taken again before the server binds it (each xdist worker starts its own)
    while True:
        server = PostgresServer("127.0.0.1", _free_port(), user, folder)
        try:
            resume(server)
            return server
        except subprocess.CalledProcessError:
            attempts -= 1
            if not attempts:
                raise


def resume(server: PostgresServer) -> None:
    """Start the server's cluster (again) on its port; returns once it accepts connections."""
    options = f"-p {server.port} -k {server.folder} -h 127.0.0.1 -F -c max_connections=100 -c fsync=off"
    _run_as_owner(["pg_ctl", "-D", str(server.folder / "data"), "-o", options, "-l", str(server.folder / "server.log"),
                   "-w", "-t", "60", "start"], server.folder)
    wait_until(lambda: _accepts(server), f"PostgreSQL to accept connections on port {server.port}", interval=0.1)


def halt(server: PostgresServer) -> None:
    """Stop the server as a restart does (``-m fast``: every session is cut); its data stays for ``resume``."""
    _run_as_owner(["pg_ctl", "-D", str(server.folder / "data"), "-m", "fast", "-w", "stop"], server.folder)


def _accepts(server: PostgresServer) -> bool:
    try:
        with socket.create_connection((server.host, server.port), timeout=1):
            return True
    except OSError:
        return False


def stop(server: PostgresServer) -> None:
    _run_as_owner(["pg_ctl", "-D", str(server.folder / "data"), "-m", "immediate", "-w", "stop"], server.folder)
    shutil.rmtree(server.folder, ignore_errors=True)

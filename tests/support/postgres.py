"""A real PostgreSQL cluster for the tests: initdb + pg_ctl in a temp dir, on a free loopback port.

initdb refuses to run as root, so as root the cluster is created and run as the ``postgres`` user.
One cluster per test process (xdist worker); each test that asks gets a fresh database in it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port, port_open, wait_until

USER = "postgres"
PASSWORD = "clipped-test"


def _as_cluster_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int

    def sqlalchemy_url(self, database: str) -> str:
        return f"postgresql+psycopg2://{USER}:{PASSWORD}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> PostgresDatabase:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        import psycopg2

        connection = psycopg2.connect(host=self.host, port=self.port, user=USER, password=PASSWORD, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return PostgresDatabase(server=self, name=name)


@dataclass(frozen=True)
class PostgresDatabase:
    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg2 driver)."""
        return self.server.sqlalchemy_url(self.name)

    @property
    def dagster_config(self) -> dict[str, object]:
        """The ``postgres_db`` block of a dagster-postgres storage config."""
        return {
            "username": USER,
            "password": PASSWORD,
            "hostname": self.server.host,
            "db_name": self.name,
            "port": self.server.port,
        }


def start_cluster(workdir: Path) -> tuple[PostgresServer, Path]:
    """initdb + start; returns the server and the data dir (stop with ``stop_cluster``)."""
    for tool in ("initdb", "pg_ctl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"PostgreSQL's {tool} is not on PATH; install PostgreSQL 15 server binaries")
    data_dir = workdir / "data"
    socket_dir = workdir / "socket"
    password_file = workdir / "password"
    socket_dir.mkdir()
    password_file.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(workdir, user="postgres")
        shutil.chown(socket_dir, user="postgres")
        shutil.chown(password_file, user="postgres")
    subprocess.run(
        _as_cluster_owner(
            ["initdb", "-D", str(data_dir), "-U", USER, "--pwfile", str(password_file), "-A", "scram-sha-256"]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_cluster_owner(
            ["pg_ctl", "-D", str(data_dir), "-l", str(workdir / "server.log"), "-o", options, "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    wait_until(lambda: port_open(port), timeout_s=30, what="PostgreSQL")
    return PostgresServer(host="127.0.0.1", port=port), data_dir


def stop_cluster(data_dir: Path) -> None:
    subprocess.run(_as_cluster_owner(["pg_ctl", "-D", str(data_dir), "-m", "immediate", "stop"]), capture_output=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster for this test process, removed afterwards."""
    # Not under pytest's tmp dirs: those are 0700 root-owned, and the cluster runs as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="clipped-pg-"))
    os.chmod(workdir, 0o755)
    server, data_dir = start_cluster(workdir)
    try:
        yield server
    finally:
        stop_cluster(data_dir)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> PostgresDatabase:
    """A fresh, empty database in the session's cluster."""
    return postgres_server.create_database()

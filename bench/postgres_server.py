"""A throwaway PostgreSQL server for the tests and benchmarks: Debian's package (installed by
`make postgres`), a new cluster in a temporary directory, reachable only over its Unix socket.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
package's own `postgres` OS user and is started through runuser.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

from ops.backup.postgres import postgres_program

SUPERUSER = "homework_admin"
# The role the app connects as: it owns its database, and nothing else (not a superuser, so SQL
# cannot read the server's files).
APP_ROLE = "homework"
PORT = 5439


@dataclass
class PostgresServer:
    directory: Path

    def url(self, database: str, role: str = APP_ROLE) -> str:
        """Return the URL of `database` on this server, as HOMEWORK_DB takes it."""
        return f"postgresql://{role}@/{database}?host={self.directory}&port={PORT}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name`, owned by the app's role (a copy of `template` when given), and
        return its URL for the app's role."""
        with psycopg.connect(self.url("postgres", SUPERUSER), autocommit=True) as admin:
            create = SQL("CREATE DATABASE {} OWNER {}").format(Identifier(name), Identifier(APP_ROLE))
            if template:
                create += SQL(" TEMPLATE {}").format(Identifier(template))
            admin.execute(create)
        return self.url(name)


def _bin(program: str) -> str:
    found = postgres_program(program)
    if found is None:
        raise RuntimeError("PostgreSQL is not installed: run `make postgres` (Debian's postgresql package)")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a new cluster for the duration of the block, then stop it and delete its files."""
    directory = Path(tempfile.mkdtemp(prefix="homework-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    data = directory / "data"
    subprocess.run(
        _as_server_user([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    # Only the Unix socket; fsync off because the cluster is thrown away (no test crashes the server).
    options = f"-p {PORT} -k {directory} -c listen_addresses='' -c fsync=off -c max_connections=300"
    pg_ctl = _bin("pg_ctl")
    subprocess.run(
        _as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        with psycopg.connect(PostgresServer(directory).url("postgres", SUPERUSER), autocommit=True) as admin:
            admin.execute(SQL("CREATE ROLE {} LOGIN").format(Identifier(APP_ROLE)))
            # The setting README recommends for the app's role: the dashboards sort and group a
            # clinic's logs, which spill to disk at the default 4 MB (cohort queries ~1.4x slower).
            admin.execute(SQL("ALTER ROLE {} SET work_mem = '64MB'").format(Identifier(APP_ROLE)))
        yield PostgresServer(directory)
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)

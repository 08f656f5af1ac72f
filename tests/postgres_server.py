"""A throwaway PostgreSQL + PostGIS server for the backend tests (a pytest plugin, see conftest.py).

The ``postgres`` fixture runs Debian's (or any) ``initdb``/``pg_ctl`` into a temporary folder,
listening on a Unix socket there only (no TCP port), with a template database that has PostGIS;
``pg_url`` is a fresh, empty database cloned from it for one test. As root the server runs as the
``postgres`` system user (PostgreSQL refuses root). Without the binaries, PostGIS or psycopg, the
tests that use them skip with one line saying why; ``SCGEO_REQUIRE_POSTGRES=1`` (CI) makes that a
failure instead.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TEMPLATE = "scgeo_template"
_counter = itertools.count()


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def missing() -> str | None:
    """Why a server cannot run here (``None`` when it can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgis]')"
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        return "PostgreSQL server binaries (initdb, pg_ctl) not found (apt-get install postgresql postgis)"
    share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True).stdout.strip() \
        if (bindir / "pg_config").exists() else ""
    if not glob.glob(f"{share}/extension/postgis.control"):
        return "PostGIS is not installed for this PostgreSQL (apt-get install postgresql-15-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


class Server:
    """A running throwaway cluster: :meth:`url` of a database, :meth:`new_database` from the template."""

    def __init__(self, folder: Path, bindir: Path) -> None:
        self.folder, self.bindir = folder, bindir
        self.socket = folder / "socket"

    def url(self, dbname: str, user: str = "postgres", password: str | None = None) -> str:
        auth = f"&password={password}" if password else ""
        return f"postgresql:///{dbname}?host={self.socket}&user={user}{auth}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self) -> str:
        name = f"ws_{os.getpid()}_{next(_counter)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)


def _run(command: list[str], as_user: str | None) -> None:
    if as_user:
        command = ["runuser", "-u", as_user, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """Start a throwaway server (stopped and removed at the end); see :func:`missing` first."""
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="scgeo-pg-"))  # short: a socket path has ~100 characters
    as_user = "postgres" if os.geteuid() == 0 else None
    (folder / "socket").mkdir()
    if as_user:
        entry = pwd.getpwnam(as_user)
        for path in (folder, folder / "socket"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    data = folder / "data"
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8",
              "--no-locale", "--no-sync", "--no-instructions"], as_user)
        options = f"-k {folder / 'socket'} -c listen_addresses= -c fsync=off -c full_page_writes=off " \
                  "-c synchronous_commit=off -c max_connections=60"
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w",
              "start"], as_user)
        server = Server(folder, bindir)
        server.sql(f"CREATE DATABASE {TEMPLATE}")
        server.sql("CREATE EXTENSION postgis", dbname=TEMPLATE)
        yield server
    finally:
        subprocess.run([*(["runuser", "-u", as_user, "--"] if as_user else []), str(bindir / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL + PostGIS server for this test session (skips when it cannot run here)."""
    reason = missing()
    if reason:
        if os.environ.get("SCGEO_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SCGEO_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(postgres):
    """The URL of a fresh, empty database with PostGIS (no workspace yet)."""
    return postgres.new_database()

"""PostgreSQL for the black-box suite: which backend the servers use, and fresh databases.

`--backend postgres` (or VPNGW_TEST_BACKEND=postgres) starts every server with
`--database-url`, each on its own fresh database created next to the one
VPNGW_TEST_DATABASE_URL names (its role needs CREATEDB) and dropped afterwards.
scripts/test and .ci/run set PostgreSQL up and run the suite once per backend.
Only ever talks to the database in that URL (loopback in CI). Needs `psql`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import urllib.parse

URL_VAR = "VPNGW_TEST_DATABASE_URL"
BACKEND_VAR = "VPNGW_TEST_BACKEND"


def backend() -> str:
    return os.environ.get(BACKEND_VAR, "sqlite") or "sqlite"


def unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if not os.environ.get(URL_VAR):
        return f"PostgreSQL not available: {URL_VAR} is not set (scripts/test sets it up when run as root)"
    if shutil.which("psql") is None:
        return "PostgreSQL not available: no psql client on PATH"
    return None


def _psql(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def create_database() -> str:
    """A new empty database; returns its URL."""
    admin = os.environ[URL_VAR]
    name = "vpngw_sdk_" + secrets.token_hex(6)
    try:
        _psql(admin, f"CREATE DATABASE {name}")
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"creating the test database {name}: {e.stderr.strip()}") from e
    return _with_database(admin, name)


def drop_database(url: str) -> None:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not name.startswith("vpngw_sdk_"):
        return  # never drop anything this module did not create
    try:
        _psql(os.environ[URL_VAR], f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except (subprocess.CalledProcessError, KeyError):
        pass


def query(url: str, sql: str) -> str:
    """`psql -At -c sql` on `url`: the rows as text (tests that look behind the server)."""
    return subprocess.run(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def dump(url: str) -> bytes:
    """Everything in the database, as `pg_dump` writes it (data only)."""
    return subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", "-d", url],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout

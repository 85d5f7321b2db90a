from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg_server import PgServer, postgres_server


@pytest.fixture(scope="session")
def _pg_pair() -> Iterator[tuple[PgServer, object | None]]:
    with postgres_server() as pair:
        yield pair


@pytest.fixture(scope="session")
def pg(_pg_pair: tuple[PgServer, object | None]) -> PgServer:
    """A real PostgreSQL server for the whole run (or the one ETL_SESSION_TEST_PG_URL names)."""
    return _pg_pair[0]


@pytest.fixture(scope="session")
def pg_cluster(_pg_pair: tuple[PgServer, object | None]) -> object:
    """The server the suite started itself, for tests that restart it mid-run."""
    if _pg_pair[1] is None:
        pytest.skip("ETL_SESSION_TEST_PG_URL names a server this suite does not own: no restart")
    return _pg_pair[1]

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg_server import PgServer, postgres_server

# The commands' processes keep dbt's compiled Jinja templates on disk (etl_session._jinja_cache).
# The suite's share one directory of its own (every xdist worker writes it at once), not the
# user's ~/.cache; tests of the cache itself give theirs.
os.environ.setdefault(
    "ETL_SESSION_JINJA_CACHE",
    str(Path(tempfile.gettempdir()) / f"etl-session-tests-jinja-{os.getuid()}"),
)
# The same for etl-session coverage's plans (etl_session._coverage_plan).
os.environ.setdefault(
    "ETL_SESSION_COVERAGE_CACHE",
    str(Path(tempfile.gettempdir()) / f"etl-session-tests-coverage-{os.getuid()}"),
)


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

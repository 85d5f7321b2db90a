from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg_server import PgServer, postgres_server


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL server for the whole run (or the one ETL_SESSION_TEST_PG_URL names)."""
    with postgres_server() as (server, _cluster):
        yield server

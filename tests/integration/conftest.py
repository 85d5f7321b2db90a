from __future__ import annotations

from pathlib import Path

import pytest

from pg_server import PgServer
from warehouse import INTEGRATION_PROJECT, Warehouse, install_packages

ADAPTERS = ["duckdb", "postgres"]


@pytest.fixture(scope="session")
def _workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: tmp_path_factory.mktemp(f"wh-{name}") for name in ADAPTERS}


def _warehouse(request: pytest.FixtureRequest, name: str, workdirs: dict[str, Path]) -> Warehouse:
    pg: PgServer | None = request.getfixturevalue("pg") if name == "postgres" else None
    wh = Warehouse(name=name, workdir=workdirs[name], pg=pg)
    install_packages(INTEGRATION_PROJECT, wh.env())
    wh.reset()
    return wh


@pytest.fixture(params=ADAPTERS)
def warehouse(request: pytest.FixtureRequest, _workdirs: dict[str, Path]) -> Warehouse:
    """A freshly reset warehouse of each adapter, with the integration project installed."""
    return _warehouse(request, request.param, _workdirs)


@pytest.fixture
def postgres_warehouse(request: pytest.FixtureRequest, _workdirs: dict[str, Path]) -> Warehouse:
    """For the few tests that are about Postgres only (query plans, say)."""
    return _warehouse(request, "postgres", _workdirs)


@pytest.fixture
def duckdb_warehouse(request: pytest.FixtureRequest, _workdirs: dict[str, Path]) -> Warehouse:
    """For tests where one adapter proves the point (the same default macro runs on both)."""
    return _warehouse(request, "duckdb", _workdirs)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_server import PgServer
from warehouse import INTEGRATION_PROJECT, Warehouse, install_packages

ADAPTERS = ["duckdb", "postgres"]


@pytest.fixture(scope="session")
def _workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: tmp_path_factory.mktemp(f"wh-{name}") for name in ADAPTERS}


@pytest.fixture(params=ADAPTERS)
def warehouse(request: pytest.FixtureRequest, _workdirs: dict[str, Path]) -> Iterator[Warehouse]:
    """A freshly reset warehouse of each adapter, with the integration project installed."""
    name: str = request.param
    pg: PgServer | None = request.getfixturevalue("pg") if name == "postgres" else None
    wh = Warehouse(name=name, workdir=_workdirs[name], pg=pg)
    install_packages(INTEGRATION_PROJECT, wh.env())
    wh.reset()
    yield wh

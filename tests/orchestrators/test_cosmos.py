"""astronomer-cosmos for real (in the Airflow environment): a DbtDag in LOCAL mode over
examples/shop, one task per dbt node, run with dag.test() under one ETL session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from orchestrator_venvs import SCRIPTS, airflow_runs, shop_copy

pytestmark = [pytest.mark.orchestrators, pytest.mark.xdist_group("orchestrators")]


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_cosmos_dbt_dag_runs_under_one_session(
    orchestrator_python: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = orchestrator_python("airflow")
    root = tmp_path_factory.mktemp("cosmos")
    env = {"SHOP_PROJECT": str(shop_copy(root / "shop", python))}
    runs, output = airflow_runs(
        python,
        root,
        SCRIPTS / "cosmos_dags" / "shop_cosmos.py",
        env,
        [{"name": "cosmos", "dag": "shop_cosmos", "conf": {"period": "2023-05"}}],
    )
    run = runs["cosmos"]
    database = root / "cosmos.duckdb"

    assert run["state"] == "success", output[-4000:]
    dbt_tasks = [task for task in run["tasks"] if not task.startswith("etl_session_")]
    assert len(dbt_tasks) >= 10  # one task per seed and model (and their tests)
    [(session_id, status, run_id, liveness, ok, error)] = query(
        database,
        "select session_id, status, run_id, liveness, nodes_ok, nodes_error"
        " from analytics.etl_sessions",
    )
    assert (status, liveness, error) == ("success", "external", 0)
    assert run_id == f"airflow:shop_cosmos:{run['run_id']}"
    assert query(database, "select distinct session_id from analytics.fct_orders") == [
        (session_id,)
    ]
    nodes = {
        node
        for (node,) in query(
            database,
            f"select node_id from analytics.etl_session_results where session_id = {session_id}",
        )
    }
    assert {"seed.shop.raw_orders", "model.shop.stg_orders", "model.shop.fct_orders"} <= nodes
    assert ok == len(nodes)
    assert run["xcom"]["etl_session_close"]["session_id"] == session_id

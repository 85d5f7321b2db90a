"""Airflow 3 for real (its own virtual environment): dag.test() of DAGs that load
examples/shop with etl_session.airflow, checked in the DuckDB files they leave."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from orchestrator_venvs import SCRIPTS, airflow_runs, shop_copy

pytestmark = [pytest.mark.orchestrators, pytest.mark.xdist_group("orchestrators")]

MAY = {"period": "[2023-05-01, 2023-05-31]"}
SCENARIOS: list[dict[str, Any]] = [
    {"name": "conf", "dag": "shop_conf", "conf": MAY},
    {"name": "interval", "dag": "shop_interval", "logical_date": "2023-06-01T00:00:00+00:00"},
    {"name": "no_period", "dag": "shop_conf"},
    {"name": "bad_period", "dag": "shop_conf", "conf": {"period": "2023-13"}},
    {"name": "busy", "dag": "shop_conf", "conf": MAY, "open_first": True},
    {"name": "broken", "dag": "shop_broken", "conf": MAY},
    {"name": "shared", "dag": "shop_shared", "conf": MAY},
    {"name": "shared_broken", "dag": "shop_shared_broken", "conf": MAY},
]


@pytest.fixture(scope="module")
def runs(
    orchestrator_python: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    python = orchestrator_python("airflow")
    root = tmp_path_factory.mktemp("airflow")
    env = {
        "SHOP_PROJECT": str(shop_copy(root / "shop", python)),
        "SHOP_BROKEN_PROJECT": str(shop_copy(root / "shop_broken", python, broken=True)),
    }
    results, output = airflow_runs(
        python, root, SCRIPTS / "airflow_dags" / "shop_dags.py", env, SCENARIOS
    )
    return {"runs": results, "root": root, "output": output}


def sessions(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select session_id, status, period_start, period_end, message, run_id, liveness"
            " from analytics.etl_sessions order by session_id"
        ).fetchall()
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_conf_period_is_loaded_and_the_result_goes_to_xcom(runs: dict[str, Any]) -> None:
    run = runs["runs"]["conf"]
    assert (run["state"], run["tasks"]) == ("success", {"load": "success"})
    [row] = sessions(runs["root"] / "conf.duckdb")
    assert row[1] == "success"
    assert (row[2].isoformat(), row[3].isoformat()) == (
        "2023-05-01T00:00:00+00:00",
        "2023-06-01T00:00:00+00:00",
    )
    xcom = run["xcom"]["load"]
    assert (xcom["session_id"], xcom["status"], xcom["period_start"]) == (
        row[0],
        "success",
        "2023-05-01T00:00:00Z",
    )


def test_a_data_interval_is_the_period_without_conf(runs: dict[str, Any]) -> None:
    run = runs["runs"]["interval"]
    assert run["state"] == "success", runs["output"][-3000:]
    [row] = sessions(runs["root"] / "interval.duckdb")
    assert (row[1], row[2].isoformat(), row[3].isoformat()) == (
        "success",
        "2023-05-01T00:00:00+00:00",
        "2023-06-01T00:00:00+00:00",
    )


def test_no_period_fails_at_once_naming_the_timetable_fix(runs: dict[str, Any]) -> None:
    run = runs["runs"]["no_period"]
    assert (run["state"], run["tries"]) == ("failed", {"load": 1})
    assert (
        "the DAG run gives no period: its conf has none and its data interval is empty"
        in runs["output"]
    )
    assert 'CronDataIntervalTimetable("@daily", timezone="UTC")' in runs["output"]
    assert not (runs["root"] / "no_period.duckdb").exists()


def test_bad_input_fails_without_retries(runs: dict[str, Any]) -> None:
    run = runs["runs"]["bad_period"]
    assert (run["state"], run["tries"]) == ("failed", {"load": 1})
    assert not (runs["root"] / "bad_period.duckdb").exists()


def test_another_load_running_is_retried(runs: dict[str, Any]) -> None:
    run = runs["runs"]["busy"]
    assert (run["state"], run["tries"]) == ("failed", {"load": 3})
    assert [row[5] for row in sessions(runs["root"] / "busy.duckdb")] == ["someone-else"]


def test_a_failing_model_makes_the_session_error_and_fails_the_run(runs: dict[str, Any]) -> None:
    run = runs["runs"]["broken"]
    assert (run["state"], run["tasks"]) == ("failed", {"load": "failed"})
    [row] = sessions(runs["root"] / "broken.duckdb")
    assert row[1] == "error"
    assert "model.shop.broken_orders (error)" in row[4]


def test_tasks_share_one_session_that_the_close_task_ends(runs: dict[str, Any]) -> None:
    run = runs["runs"]["shared"]
    assert run["state"] == "success", runs["output"][-3000:]
    assert set(run["tasks"].values()) == {"success"}
    path = runs["root"] / "shared.duckdb"
    [row] = sessions(path)
    assert (row[1], row[6]) == ("success", "external")
    assert row[5] == f"airflow:shop_shared:{run['run_id']}"
    assert run["xcom"]["seeds"]["session_id"] == run["xcom"]["models"]["session_id"] == row[0]
    assert run["xcom"]["etl_session_close"]["status"] == "success"
    stamps = query(path, "select distinct session_id from analytics.fct_orders")
    assert stamps == [(row[0],)]
    nodes = query(
        path, f"select node_id from analytics.etl_session_results where session_id = {row[0]}"
    )
    names = {node for (node,) in nodes}
    assert {"seed.shop.raw_orders", "model.shop.stg_orders", "model.shop.fct_orders"} <= names


def test_a_failed_task_closes_the_shared_session_as_error_and_fails_the_run(
    runs: dict[str, Any],
) -> None:
    run = runs["runs"]["shared_broken"]
    assert run["state"] == "failed"
    assert run["tasks"] == {
        "etl_session_open": "success",
        "seeds": "success",
        "models": "failed",
        "etl_session_close": "failed",
    }
    [row] = sessions(runs["root"] / "shared_broken.duckdb")
    assert row[1] == "error"
    assert row[4].startswith("closed as error: failed tasks: models; 1 failed, ")
    assert "model.shop.broken_orders (error)" in row[4]

"""Dagster for real (its own virtual environment): `@dbt_assets` partitioned by month over
examples/shop, materialized for two months and the first month again, then an op of a
partitioned job; checked in the DuckDB file they leave."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from orchestrator_venvs import run_script, shop_copy

pytestmark = [pytest.mark.orchestrators, pytest.mark.xdist_group("orchestrators")]


@pytest.fixture(scope="module")
def runs(
    orchestrator_python: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    python = orchestrator_python("dagster")
    root = tmp_path_factory.mktemp("dagster")
    project = shop_copy(root / "shop", python)
    broken = shop_copy(root / "shop_broken", python, broken=True)
    database = root / "shop.duckdb"
    proc = run_script(
        python,
        "run_dagster.py",
        str(project),
        str(broken),
        env={"SHOP_DUCKDB_PATH": str(database), "DAGSTER_HOME": str(root)},
        cwd=root,
    )
    output = proc.stdout + proc.stderr
    results = [
        json.loads(line[len("RESULT ") :])
        for line in proc.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    assert proc.returncode == 0 and len(results) == 5, output[-5000:]
    return {"results": results, "database": database, "output": output}


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_each_materialization_is_one_session_named_in_its_metadata(runs: dict[str, Any]) -> None:
    may, june, may_again, *_ = runs["results"]
    sessions = query(
        runs["database"],
        "select session_id, run_id, status, period_start, period_end from analytics.etl_sessions"
        " order by session_id",
    )
    assert [run["success"] for run in (may, june, may_again)] == [True, True, True]
    assert [row[1:3] for row in sessions[:3]] == [
        (may["run_id"], "success"),
        (june["run_id"], "success"),
        (may_again["run_id"], "success"),
    ]
    assert [(row[3].isoformat(), row[4].isoformat()) for row in sessions[:3]] == [
        ("2023-05-01T00:00:00+00:00", "2023-06-01T00:00:00+00:00"),
        ("2023-06-01T00:00:00+00:00", "2023-07-01T00:00:00+00:00"),
        ("2023-05-01T00:00:00+00:00", "2023-06-01T00:00:00+00:00"),
    ]
    for run, row in zip((may, june, may_again), sessions, strict=False):
        materialized = run["materializations"]
        assert "fct_orders" in materialized
        assert {item["etl_session_id"] for item in materialized.values()} == {row[0]}
        assert {item["etl_session_status"] for item in materialized.values()} == {"success"}
        start = row[3].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert materialized["fct_orders"]["etl_period_start"] == start


def test_a_rematerialized_month_replaces_its_rows_without_duplicates(runs: dict[str, Any]) -> None:
    may, june, may_again, *_ = runs["results"]
    ids = {
        run_id: session_id
        for session_id, run_id in query(
            runs["database"], "select session_id, run_id from analytics.etl_sessions"
        )
    }
    by_month = query(
        runs["database"],
        "select strftime(ordered_at, '%Y-%m') as month, session_id, count(*),"
        " count(distinct order_id) from analytics.fct_orders group by 1, 2 order by 1, 2",
    )
    may_rows = [row for row in by_month if row[0] == "2023-05"]
    june_rows = [row for row in by_month if row[0] == "2023-06"]
    assert [row[1] for row in may_rows] == [ids[may_again["run_id"]]]
    assert [row[1] for row in june_rows] == [ids[june["run_id"]]]
    assert all(count == distinct and count > 0 for _, _, count, distinct in may_rows + june_rows)
    assert ids[may["run_id"]] not in {row[1] for row in by_month}


def test_an_op_loads_its_partition_and_names_the_session_in_its_output(
    runs: dict[str, Any],
) -> None:
    run = runs["results"][3]
    assert run["success"], runs["output"][-3000:]
    [(session_id, status)] = query(
        runs["database"],
        f"select session_id, status from analytics.etl_sessions where run_id = '{run['run_id']}'",
    )
    assert status == "success"
    assert run["metadata"]["etl_session_id"] == session_id
    assert run["metadata"]["etl_session_status"] == "success"
    assert run["metadata"]["etl_period_start"] == "2023-07-01T00:00:00Z"
    assert run["value"]["session_id"] == session_id


def test_a_failing_dbt_build_closes_its_session_as_error_and_fails_the_run(
    runs: dict[str, Any],
) -> None:
    run = runs["results"][4]
    assert run["success"] is False
    [(status, message)] = query(
        runs["database"],
        f"select status, message from analytics.etl_sessions where run_id = '{run['run_id']}'",
    )
    assert status == "error"
    assert message.startswith("closed as error: DagsterDbtCliRuntimeError"), message
    assert "model.shop.broken_orders (error)" in message

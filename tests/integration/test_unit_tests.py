"""dbt unit tests of period models (the shop example's `unit_tests:`), on DuckDB and Postgres.

The failures users hit before (issue 8): a unit test's fixture rows were dropped by the period
filter, and a unit test that set a period and a session id stopped with "no session was opened
... add on-run-start" although the hook was there. Both run here under a real load of another
period, so the fixtures must not depend on the period being loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warehouse import REPO, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "shop"
# September 2023 stated in New York: neither unit test's fixtures lie in it.
SEPTEMBER_NY = {
    "ETL_SESSION_PERIOD_START": "2023-09-01T00:00:00",
    "ETL_SESSION_PERIOD_END": "2023-10-01T00:00:00",
    "ETL_SESSION_PERIOD_TIMEZONE": "America/New_York",
}
UNIT_TESTS = {
    "fct_orders_sums_each_order_s_payments",
    "agg_daily_revenue_counts_local_days_of_the_period_s_zone",
}


@pytest.fixture
def shop(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """The shop example on this adapter's warehouse."""
    project = copy_project(EXAMPLE, tmp_path / "shop")
    warehouse.project_dir = project
    warehouse.extra_env["SHOP_DUCKDB_PATH"] = str(warehouse.duckdb_path)
    if warehouse.pg is not None:
        pg = warehouse.pg
        warehouse.extra_env.update(
            PGHOST=pg.host, PGPORT=str(pg.port), PGUSER=pg.user, PGPASSWORD=pg.password,
            PGDATABASE=pg.dbname,
        )  # fmt: skip
        warehouse.execute("drop schema if exists analytics_raw cascade")
    install_packages(project, warehouse.env())
    return warehouse


def unit_test_results(wh: Warehouse) -> dict[str, str]:
    results = json.loads((wh.workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in results
        if r["unique_id"].startswith("unit_test.")
    }


def test_unit_tests_pass_inside_a_load_of_another_period_and_alone(shop: Warehouse) -> None:
    build = shop.dbt("build", env=SEPTEMBER_NY, check=False)

    assert build.returncode == 0, build.output
    assert unit_test_results(shop) == dict.fromkeys(UNIT_TESTS, "pass")
    # The load itself is exact in New York's days: 30 days, every order of the period counted.
    [(session_id, start, end)] = shop.query(
        "select session_id, period_start, period_end from analytics.etl_sessions"
    )
    assert (start.isoformat()[:19], end.isoformat()[:19]) == (
        "2023-09-01T04:00:00",
        "2023-10-01T04:00:00",
    )
    [(orders, first, last)] = shop.query(
        "select count(*), min(ordered_at), max(ordered_at) from analytics.fct_orders"
    )
    assert str(first) >= "2023-09-01 04:00:00" and str(last) < "2023-10-01 04:00:00"
    [(days, counted, stamped)] = shop.query(
        "select count(*), sum(orders), min(session_id) from analytics.agg_daily_revenue"
        " where order_date between '2023-09-01' and '2023-09-30'"
    )
    assert (days, counted, stamped) == (30, orders, session_id)
    assert shop.query("select count(*) from analytics.agg_daily_revenue") == [(30,)]

    # Alone, without any period (the upstream tables exist now, as dbt unit tests need).
    alone = shop.dbt("test", "--select", "test_type:unit", check=False)

    assert alone.returncode == 0, alone.output
    assert unit_test_results(shop) == dict.fromkeys(UNIT_TESTS, "pass")


def test_a_unit_test_with_a_period_needs_the_column_named(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "shop")
    (project / "models" / "marts" / "_more_unit_tests.yml").write_text(
        """\
version: 2
unit_tests:
  - name: fct_orders_with_a_period
    model: fct_orders
    overrides:
      vars: {etl_period_start: "2023-05-01", etl_period_end: "2023-06-01"}
    given:
      - input: ref('stg_orders')
        rows: [{order_id: 1, ordered_at: "2023-05-01 00:00:00"}]
      - input: ref('stg_payments')
        rows: []
    expect:
      rows: [{order_id: 1}]
"""
    )
    wh = duckdb_warehouse
    wh.project_dir = project
    wh.extra_env["SHOP_DUCKDB_PATH"] = str(wh.duckdb_path)
    install_packages(project, wh.env())
    may = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
    wh.dbt("build", "--exclude", "test_type:unit", period=may)

    run = wh.dbt("test", "--select", "fct_orders_with_a_period", check=False)

    assert run.returncode == 1
    assert (
        "etl_session.period_ref('stg_orders') in unit test fct_orders_with_a_period: dbt gives"
        " unit tests no graph, so the event_time of"
    ) in run.output
    assert "pass column='<its event_time column>' to period_ref" in run.output


PLAIN_DBT_VARS = (
    '{etl_period_start: "2023-09-01T00:00:00", etl_period_end: "2023-10-01T00:00:00",'
    " etl_period_timezone: America/New_York}"
)


@pytest.mark.parametrize(
    "given_as",
    ["env", "vars"],
)
def test_period_filter_in_a_unit_test_ignores_the_period_of_the_surrounding_load(
    duckdb_warehouse: Warehouse, tmp_path: Path, given_as: str
) -> None:
    """The load's period comes from etl-run's environment or from plain dbt's --vars."""
    project = copy_project(EXAMPLE, tmp_path / "shop")
    (project / "models" / "marts" / "orders_direct.sql").write_text(
        "{{ config(materialized='etl_period', etl_period_column='ordered_at') }}\n"
        "select order_id, ordered_at from {{ ref('stg_orders') }}"
        " where {{ etl_session.period_filter('ordered_at') }}\n"
    )
    (project / "models" / "marts" / "_orders_direct.yml").write_text(
        """\
version: 2
unit_tests:
  - name: orders_direct_without_a_period
    model: orders_direct
    given:
      - input: ref('stg_orders')
        rows: [{order_id: 1, ordered_at: "2023-05-01 10:00:00"}]
    expect:
      rows: [{order_id: 1}]
"""
    )
    wh = duckdb_warehouse
    wh.project_dir = project
    wh.extra_env["SHOP_DUCKDB_PATH"] = str(wh.duckdb_path)
    install_packages(project, wh.env())

    how = ["--vars", PLAIN_DBT_VARS] if given_as == "vars" else []
    run = wh.dbt(
        "build", "--select", "+orders_direct", "--indirect-selection", "cautious", *how,
        env=SEPTEMBER_NY if given_as == "env" else None, check=False,
    )  # fmt: skip

    assert unit_test_results(wh) == {"orders_direct_without_a_period": "pass"}, run.output
    assert run.returncode == 0, run.output

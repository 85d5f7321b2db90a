"""Input etl-run must refuse before anything runs, and the default period after partial loads.

Every refusal is one line on stderr, exit code 2, no session row, and no dbt invocation (no
sessions table is even created) unless the refusal comes from the package's own hook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-05-01 00:00:00", 1.0),
    (2, "2023-05-20 10:00:00", 2.0),
    (3, "2023-06-01 00:00:00", 3.0),
    (4, "2023-06-15 12:00:00", 4.0),
]
PERIOD_MODEL = """{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
where {{ etl_session.period_filter('e.occurred_at') }}
"""


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    if not wh.table_exists("analytics", "etl_sessions"):
        return []
    return wh.query(
        "select session_id, status, message, period_start, period_end"
        " from analytics.etl_sessions order by session_id"
    )


def assert_refused(run: Any, message: str) -> None:
    assert run.returncode == 2, run.output
    assert run.stderr == f"Error: {message}\n", run.output
    assert run.stdout == ""
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("etl_period_start", "use --period instead"),
        ("etl_period_end", "use --period instead"),
        ("etl_period_timezone", "use --timezone instead"),
        ("etl_source", "use --source instead"),
        ("etl_run_id", "etl-run makes a new run id for every load; remove it"),
    ],
)
def test_session_vars_given_with_vars_are_refused_before_dbt_runs(
    warehouse: Warehouse, name: str, fix: str
) -> None:
    warehouse.insert_events(EVENTS)
    vars_ = json.dumps({name: "2023-01-01T00:00:00Z", "other": 1})

    run = warehouse.etl_run("--period", "2023-05", "--vars", vars_)

    assert_refused(run, f"--vars {name} is reserved while etl-run drives the session: {fix}")
    assert not warehouse.table_exists("analytics", "etl_sessions")  # dbt never started


@pytest.mark.parametrize("scoped", [False, True])
def test_a_period_in_the_projects_vars_is_refused(
    duckdb_warehouse: Warehouse, tmp_path: Path, scoped: bool
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "project")
    config = project / "dbt_project.yml"
    indent = "    " if scoped else "  "
    period_vars = (
        "  etl_it:\n" if scoped else ""
    ) + f"{indent}etl_period_start: '2023-01-01'\n{indent}etl_period_end: '2023-02-01'\n"
    config.write_text(config.read_text().replace("vars:\n", "vars:\n" + period_vars, 1))
    wh = Warehouse("duckdb", duckdb_warehouse.workdir, project_dir=project)

    run = wh.etl_run("--period", "2023-05")

    assert_refused(
        run,
        f"{config} sets the var etl_period_start, which would override what etl-run sets for "
        "every load: remove it (use --period instead)",
    )
    assert sessions(wh) == []


def test_a_full_refresh_the_package_refuses_exits_2_without_a_session_row(
    warehouse: Warehouse,
) -> None:
    warehouse.insert_events(EVENTS)
    first = warehouse.etl_run("--period", "2023-05", "-q")
    assert first.returncode == 0, first.output
    before = warehouse.query("select id from analytics.fct_events order by id")

    run = warehouse.etl_run("--period", "2023-06", "--full-refresh", "-q")

    assert run.returncode == 2, run.output
    message_lines = [line for line in run.stderr.splitlines() if line.startswith("  ")]
    assert len(message_lines) == 1, run.output
    assert (
        "--full-refresh would drop every other period of model.etl_it.fct_events"
        in (message_lines[0])
    )
    assert "etl_period_begin" in message_lines[0]
    assert [row[1] for row in sessions(warehouse)] == ["success"]  # no row for the refusal
    assert warehouse.query("select id from analytics.fct_events order by id") == before


@pytest.mark.parametrize("with_period", [True, False])
def test_a_selection_that_matches_nothing_exits_2(
    duckdb_warehouse: Warehouse, with_period: bool
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    assert wh.etl_run("--period", "2023-05", "-q").returncode == 0
    period = ["--period", "2023-06"] if with_period else []

    run = wh.etl_run(*period, "-s", "no_such_model", "-q")

    assert run.returncode == 2, run.output
    assert "the selection matches no node: --select no_such_model" in run.stderr
    assert "no session success" not in run.output
    assert len(sessions(wh)) == 1


def partial_project(wh: Warehouse, tmp_path: Path) -> Warehouse:
    """The integration project with a second period model, fct_events_copy."""
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "partial")
    (project / "models" / "fct_events_copy.sql").write_text(PERIOD_MODEL)
    install_packages(project, wh.env())
    return Warehouse(wh.name, wh.workdir, wh.pg, project_dir=project)


def test_a_partial_load_does_not_move_the_default_period_of_the_models_it_left_out(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = partial_project(warehouse, tmp_path)
    wh.insert_events(EVENTS)
    assert wh.etl_run("--period", "2023-05", "-q").returncode == 0
    partial = wh.etl_run("--period", "2023-06", "-s", "fct_events", "-q")
    assert partial.returncode == 0, partial.output

    dry = wh.etl_run("--dry-run", "--json")

    assert dry.returncode == 0, dry.output
    [chunk] = json.loads(dry.stdout)["chunks"]
    assert chunk["period_start"] == "2023-06-01T00:00:00Z"  # not July
    text = wh.etl_run("--dry-run")
    assert text.returncode == 0, text.output
    assert text.stdout.startswith("would load 1 chunk\n  planned  2023-06-01T00:00:00Z → ")

    run = wh.etl_run("--json")

    assert run.returncode == 0, run.output
    assert json.loads(run.stdout)["chunks"][0]["period_start"] == "2023-06-01T00:00:00Z"
    copy_ids = [row[0] for row in wh.query("select id from analytics.fct_events_copy order by id")]
    assert copy_ids == [1, 2, 3, 4]  # June reached the model the partial load left out
    [*_, (_, status, _, _, _)] = sessions(wh)
    assert status == "success"

    assert wh.etl_run("--dry-run").stdout.startswith("data is up to date: ")
    selections = [row[0] for row in wh.query(
        "select selection from analytics.etl_sessions order by session_id"
    )]  # fmt: skip
    assert selections[0] is None  # the whole project
    assert json.loads(selections[1])["select"] == ["fct_events"]


def test_a_period_model_never_loaded_stops_the_default_period(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    assert wh.etl_run("--period", "2023-05", "-q").returncode == 0
    grown = partial_project(wh, tmp_path)  # a new period model appears in the project

    run = grown.etl_run("-q")

    assert_refused(
        run,
        "model.etl_it.fct_events_copy has no successful load of etl_it yet, so the period to "
        "continue from is unknown: load its first period with --period (e.g. -s "
        "fct_events_copy), set its etl_period_begin, or --exclude it",
    )
    assert len(sessions(wh)) == 1
    assert grown.etl_run("--exclude", "fct_events_copy", "--dry-run").returncode == 0


def test_dry_run_without_a_period_says_when_the_warehouse_is_unreachable(
    postgres_warehouse: Warehouse,
) -> None:
    run = postgres_warehouse.etl_run("--dry-run", env={"ETL_IT_PG_PORT": "1"})

    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output
    [line] = run.stderr.splitlines()
    assert line.startswith("Error: cannot tell which periods are missing: ")


def test_the_session_records_the_zone_the_period_was_resolved_in(warehouse: Warehouse) -> None:
    run = warehouse.etl_run("--period", "2023-05-01", "--timezone", "Europe/Berlin", "-q")

    assert run.returncode == 0, run.output
    [(zone, start)] = warehouse.query(
        "select period_timezone, cast(period_start as varchar) from analytics.etl_sessions"
    )
    assert zone == "Europe/Berlin"
    assert start.startswith("2023-04-30 22:00:00")

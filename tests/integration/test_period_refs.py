"""period_ref / period_source: inputs limited to the period where a period model reads them.

A small dbt project of its own (written below into a temp folder, installing the package from
this repository) keeps its staging view whole and reads it, and the source, through the period
macros. Real dbt against real DuckDB and Postgres; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, install_packages

pytestmark = pytest.mark.integration

MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
JUNE = ("2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z")
DAY = ("2023-02-01T00:00:00Z", "2023-02-02T00:00:00Z")

EVENTS = [
    (1, "2023-04-30 23:59:59", 1.0),
    (2, "2023-05-01 00:00:00", 2.0),  # the start of May: in
    (3, "2023-05-15 12:00:00", 3.0),
    (4, "2023-05-31 23:59:59.999999", 4.0),
    (5, "2023-06-01 00:00:00", 5.0),  # the end of May: out, the start of June: in
    (6, "2023-06-15 08:00:00", 6.0),
    (7, "2023-07-01 00:00:00", 7.0),
]

PROJECT_FILES = {
    "dbt_project.yml": """\
name: etl_refs
version: "1.0.0"
config-version: 2
profile: etl_it
model-paths: ["models"]
macro-paths: ["macros"]
on-run-start: ["{{ etl_session.open_session() }}"]
on-run-end: ["{{ etl_session.close_session(results) }}"]
vars:
  with_bad_view: false
  with_allowed_view: false
  with_no_event_time: false
  with_wrong_type: false
models:
  etl_refs:
    +materialized: view
""",
    "macros/etl_period.sql": (
        "{% macro get_incremental_etl_period_sql(arg_dict) %}"
        "{{ return(etl_session.get_etl_period_sql(arg_dict)) }}{% endmacro %}\n"
    ),
    "models/sources.yml": """\
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
        config:
          event_time: occurred_at
  - name: berlin_clock
    description: The same table, read as if its naive times were Berlin wall-clock time.
    schema: raw
    tables:
      - name: events
        config:
          event_time: occurred_at
          meta: {etl_period_column_timezone: Europe/Berlin}
""",
    "models/models.yml": """\
version: 2
models:
  - name: stg_events
    description: Every event, whole; period models read it with period_ref.
    config:
      event_time: occurred_at
  - name: stg_events_no_time
    description: A view without event_time.
""",
    # A shared staging view: no period in it.
    "models/stg_events.sql": "select id, occurred_at, amount from {{ source('raw', 'events') }}\n",
    "models/stg_events_no_time.sql": "select id, occurred_at from {{ source('raw', 'events') }}\n",
    # Period models: read their inputs limited to the period, column from event_time.
    "models/fct_events.sql": """\
{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ etl_session.period_ref('stg_events') }} as e
""",
    "models/fct_events_from_source.sql": """\
{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at
from {{ etl_session.period_source('raw', 'events') }} as e
""",
    "models/fct_events_berlin_clock.sql": """\
{{ config(enabled=var('with_berlin_clock', false), materialized='incremental',
          incremental_strategy='etl_period', etl_period_column='occurred_at',
          etl_period_column_timezone='Europe/Berlin') }}
select e.id, e.occurred_at from {{ etl_session.period_source('berlin_clock', 'events') }} as e
""",
    "models/eph_events.sql": """\
{{ config(materialized='ephemeral') }}
select id, occurred_at from {{ etl_session.period_ref('stg_events') }} as e
""",
    "models/fct_through_ephemeral.sql": """\
{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, id, occurred_at from {{ ref('eph_events') }}
""",
    # A column written with the alias the caller gives the period relation (or the table name):
    # the filter is applied inside the macro's own subquery, where only the bare name resolves.
    "models/qualified_column.sql": """\
{{ config(enabled=var('with_qualified_column', false), materialized='etl_period',
          etl_period_column='occurred_at') }}
select e.id, e.occurred_at
from {{ etl_session.period_ref('stg_events', column='e.occurred_at') }} as e
join {{ etl_session.period_source('raw', 'events', column='"events"."occurred_at"') }} as r
  on r.id = e.id
""",
    # Switched on by vars: the error cases.
    "models/fct_through_ephemeral_begin.sql": """\
{{ config(enabled=var('with_ephemeral_begin', false), materialized='etl_period',
          etl_period_column='occurred_at', etl_period_begin='2023-01-01') }}
select {{ etl_session.session_id() }} as session_id, id, occurred_at from {{ ref('eph_events') }}
""",
    "models/view_over_ephemeral.sql": """\
{{ config(enabled=var('with_view_over_ephemeral', false), materialized='view') }}
select id from {{ ref('eph_events') }}
""",
    "models/bad_view.sql": """\
{{ config(enabled=var('with_bad_view'), materialized=var('bad_view_materialized', 'view')) }}
select id from {{ source('raw', 'events') }} where {{ etl_session.period_filter('occurred_at') }}
""",
    "models/allowed_view.sql": """\
{{ config(enabled=var('with_allowed_view'), etl_period_allow_persisted=true) }}
select id from {{ etl_session.period_ref('stg_events') }} as e
""",
    "models/no_event_time.sql": """\
{{ config(enabled=var('with_no_event_time'), materialized='incremental',
          incremental_strategy='etl_period', etl_period_column='occurred_at') }}
select id, occurred_at from {{ etl_session.period_ref('stg_events_no_time') }} as e
""",
    "models/wrong_type.sql": """\
{{ config(enabled=var('with_wrong_type'), materialized='incremental',
          incremental_strategy='etl_period', etl_period_column='occurred_at') }}
select id, occurred_at from {{ etl_session.period_source('raw', 'events', data_type='date') }} as e
""",
}


@pytest.fixture(scope="module")
def refs_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tmp_path_factory.mktemp("etl_refs")
    for name, text in PROJECT_FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (project / "profiles.yml").write_text((INTEGRATION_PROJECT / "profiles.yml").read_text())
    repo = INTEGRATION_PROJECT.parent.parent
    (project / "packages.yml").write_text(f"packages:\n  - local: {repo}\n")
    yield project


@pytest.fixture
def wh(warehouse: Warehouse, refs_project: Path) -> Warehouse:
    warehouse.project_dir = refs_project
    install_packages(refs_project, warehouse.env())
    return warehouse


@pytest.fixture
def duck(duckdb_warehouse: Warehouse, refs_project: Path) -> Warehouse:
    duckdb_warehouse.project_dir = refs_project
    install_packages(refs_project, duckdb_warehouse.env())
    return duckdb_warehouse


def ids(wh: Warehouse, relation: str) -> list[int]:
    return [row[0] for row in wh.query(f"select id from {relation} order by id")]


def test_staging_views_stay_whole_after_loads_of_two_periods(wh: Warehouse) -> None:
    wh.insert_events(EVENTS)

    wh.dbt("build", period=MAY)
    wh.dbt("build", period=JUNE)

    every_id = [row[0] for row in EVENTS]
    assert ids(wh, "analytics.stg_events") == every_id
    by_session = wh.query(
        "select session_id, min(id), max(id), count(*) from analytics.fct_events"
        " group by session_id order by session_id"
    )
    assert [row[1:] for row in by_session] == [(2, 4, 3), (5, 6, 2)]
    assert ids(wh, "analytics.fct_events_from_source") == [2, 3, 4, 5, 6]
    assert ids(wh, "analytics.fct_through_ephemeral") == [2, 3, 4, 5, 6]
    # The view's SQL holds no period: nothing of a load is baked into what everyone reads.
    sql = (wh.workdir / "target" / "run" / "etl_refs" / "models" / "stg_events.sql").read_text()
    assert "2023" not in sql


def test_the_column_comes_from_event_time_and_the_type_from_the_warehouse(wh: Warehouse) -> None:
    wh.insert_events(EVENTS)

    wh.dbt("run", "--select", "fct_events", "fct_events_from_source", "stg_events", period=MAY)

    compiled = wh.workdir / "target" / "compiled" / "etl_refs" / "models"
    expected = (
        "where (occurred_at >= cast('2023-05-01 00:00:00' as timestamp)"
        " and occurred_at < cast('2023-06-01 00:00:00' as timestamp)))"
    )
    assert expected in (compiled / "fct_events.sql").read_text()
    assert expected in (compiled / "fct_events_from_source.sql").read_text()


def test_a_column_qualified_by_the_caller_s_alias_is_read_as_the_input_s_column(
    wh: Warehouse,
) -> None:
    wh.insert_events(EVENTS)

    wh.dbt(
        "run", "--select", "stg_events", "qualified_column",
        "--vars", "{with_qualified_column: true}", period=MAY,
    )  # fmt: skip

    assert ids(wh, "analytics.qualified_column") == [2, 3, 4]


def test_a_full_refresh_through_a_period_limited_ephemeral_is_refused(wh: Warehouse) -> None:
    # dbt compiles an ephemeral model once, with the session's period: a rebuild from
    # etl_period_begin would read only this period through it and lose the other months.
    wh.insert_events(EVENTS)
    on = "{with_ephemeral_begin: true}"
    wh.dbt("run", "-s", "stg_events", "fct_through_ephemeral_begin", "--vars", on, period=MAY)
    wh.dbt("run", "-s", "fct_through_ephemeral_begin", "--vars", on, period=JUNE)
    before = ids(wh, "analytics.fct_through_ephemeral_begin")
    assert before == [2, 3, 4, 5, 6]

    run = wh.dbt(
        "run", "-s", "fct_through_ephemeral_begin", "--full-refresh", "--vars", on,
        period=JUNE, check=False,
    )  # fmt: skip

    assert run.returncode != 0, run.output
    assert (
        "--full-refresh would rebuild model.etl_refs.fct_through_ephemeral_begin from this period"
        " only: it reads the ephemeral model.etl_refs.eph_events, which limits its input to the"
        " period"
    ) in run.output
    assert ids(wh, "analytics.fct_through_ephemeral_begin") == before


def test_a_view_reading_a_period_limited_ephemeral_is_refused(wh: Warehouse) -> None:
    run = wh.dbt(
        "run", "-s", "view_over_ephemeral", "--vars", "{with_view_over_ephemeral: true}",
        period=MAY, check=False,
    )  # fmt: skip

    assert run.returncode == 1, run.output
    assert (
        "etl_session.period_ref() in ephemeral model.etl_refs.eph_events is read by"
        " model.etl_refs.view_over_ephemeral, materialized as a view: the period would be baked"
        " into it"
    ) in run.output
    assert not wh.table_exists("analytics", "view_over_ephemeral")


def test_a_source_s_wall_clock_zone_comes_from_its_config(duck: Warehouse) -> None:
    duck.insert_events(EVENTS)

    duck.dbt(
        "compile", "--select", "fct_events_berlin_clock", "--vars", "{with_berlin_clock: true}",
        period=MAY,
    )  # fmt: skip

    compiled = duck.workdir / "target" / "compiled" / "etl_refs" / "models"
    # May in UTC, read on a column holding Berlin wall-clock time (CEST, UTC+2).
    assert (
        "where (occurred_at >= cast('2023-05-01 02:00:00' as timestamp)"
        " and occurred_at < cast('2023-06-01 02:00:00' as timestamp)))"
    ) in (compiled / "fct_events_berlin_clock.sql").read_text()


def test_without_event_time_the_error_names_the_fix(duck: Warehouse) -> None:
    run = duck.dbt(
        "run", "--vars", "{with_no_event_time: true}", "--select", "no_event_time",
        period=MAY, check=False,
    )  # fmt: skip

    assert run.returncode == 1
    assert (
        "etl_session.period_ref('stg_events_no_time'): no column to limit to the period:"
        " set dbt's event_time config on model.etl_refs.stg_events_no_time"
        " (yml: config: {event_time: <the column holding each row's time>})"
        " or pass column='<column>'"
    ) in run.output


def test_a_declared_type_that_contradicts_the_column_is_an_error(wh: Warehouse) -> None:
    run = wh.dbt(
        "run", "--vars", "{with_wrong_type: true}", "--select", "wrong_type",
        period=MAY, check=False,
    )  # fmt: skip

    assert run.returncode == 1
    assert "period_source('raw', 'events') column occurred_at of" in run.output
    assert "is declared date but the column is a timestamp in the warehouse" in run.output
    assert not wh.table_exists("analytics", "wrong_type")


@pytest.mark.parametrize(("command", "materialized"), [("run", "view"), ("compile", "table")])
def test_a_period_macro_in_a_view_or_table_is_refused_naming_the_model_and_the_fix(
    duck: Warehouse, command: str, materialized: str
) -> None:
    run = duck.dbt(
        command, "--select", "bad_view",
        "--vars", f"{{with_bad_view: true, bad_view_materialized: {materialized}}}",
        period=MAY, check=False,
    )  # fmt: skip

    assert run.returncode != 0  # dbt run: 1; dbt compile: 2
    assert (
        f"etl_session.period_filter() in model.etl_refs.bad_view, materialized as a {materialized}:"
        f" the period would be baked into a persisted {materialized} that everyone reads"
    ) in run.output
    assert "from {{ etl_session.period_ref('bad_view') }}" in run.output
    assert "config(etl_period_allow_persisted=true)" in run.output
    assert not duck.table_exists("analytics", "bad_view")


def test_a_view_that_opts_in_keeps_its_period(duck: Warehouse) -> None:
    duck.insert_events(EVENTS)

    duck.dbt("run", "--vars", "{with_allowed_view: true}", "--select", "+allowed_view", period=MAY)

    assert ids(duck, "analytics.allowed_view") == [2, 3, 4]


def test_postgres_uses_the_index_through_the_view(
    postgres_warehouse: Warehouse, refs_project: Path
) -> None:
    wh = postgres_warehouse
    wh.project_dir = refs_project
    install_packages(refs_project, wh.env())
    wh.execute(
        "insert into raw.events select g, timestamp '2023-01-01' + g * interval '1 minute', 1"
        " from generate_series(1, 200000) as g"
    )
    wh.execute("create index events_occurred_at_idx on raw.events (occurred_at)")
    wh.execute("analyze raw.events")

    wh.dbt("build", "--select", "stg_events", "fct_events", period=DAY)

    # fct_events reads the whole view stg_events through period_ref: Postgres pushes the
    # period's predicate through the view down to the index of the table under it.
    sql = (
        wh.workdir / "target" / "compiled" / "etl_refs" / "models" / "fct_events.sql"
    ).read_text()
    assert '"analytics"."stg_events" where (occurred_at >= ' in sql
    plan = "\n".join(row[0] for row in wh.query(f"explain {sql}"))
    assert "events_occurred_at_idx" in plan, plan
    assert "Seq Scan on events" not in plan, plan
    assert wh.query("select count(*) from analytics.fct_events") == [(1440,)]

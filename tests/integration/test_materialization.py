"""materialized='etl_period' and the documented strategy shim, on real dbt, DuckDB and Postgres.

The models live in a copy of the integration project (written below), so that the shared
project's own tests keep their node counts.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from datetime import date
from pathlib import Path

import pytest

from warehouse import BIN, INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

APRIL = ("2023-04-01T00:00:00Z", "2023-05-01T00:00:00Z")
MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
JUNE = ("2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z")

EVENTS = [
    (1, "2023-04-30 23:59:59", 1.0),
    (2, "2023-05-01 00:00:00", 2.0),  # the first instant of May: loaded with May
    (3, "2023-05-15 12:00:00", 3.0),
    (4, "2023-05-31 23:59:59.999999", 4.0),
    (5, "2023-06-01 00:00:00", 5.0),  # the end of May is June's
    (6, "2023-06-15 08:00:00", 6.0),
]

MODELS = {
    # The model selects every event: the materialization keeps only the period's.
    "mat_events": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  etl_period_begin='2023-04-01',
                  post_hook=["{{ 'select * from no_such_table_in_a_post_hook'
                                 if var('mat_fail_post_hook', false) else 'select 1' }}",
                             "{{ etl_it_pause_in_transaction() }}"]) }}
        select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
        from {{ source('raw', 'events') }} as e
    """,
    "mat_schema_change": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  on_schema_change=var('mat_on_schema_change', 'ignore')) }}
        select e.id, e.occurred_at, e.amount
        {%- if var('mat_new_column', false) %}, e.amount * 10 as amount_x10{% endif %}
        from {{ source('raw', 'events') }} as e
    """,
    "mat_contract": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at') }}
        select
        {%- if var('mat_break_contract', false) %} cast(e.id as varchar) as id
        {%- else %} e.id{% endif %}, e.occurred_at, e.amount
        from {{ source('raw', 'events') }} as e
    """,
    # No etl_period_data_type: the period column is a date, read from the warehouse.
    "mat_days": """
        {{ config(materialized='etl_period', etl_period_column='event_day',
                  etl_period_data_type=var('mat_declared_type', none)) }}
        select e.id, cast(e.occurred_at as date) as event_day
        from {{ source('raw', 'events') }} as e
    """,
    "mat_predicates": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  incremental_predicates=['amount < 4']) }}
        select e.id, e.occurred_at, e.amount from {{ source('raw', 'events') }} as e
    """,
    "mat_unit": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at') }}
        select e.id, e.occurred_at, e.amount * 2 as doubled from {{ source('raw', 'events') }} as e
    """,
    "mat_granted": """
        {{ config(materialized='etl_period', etl_period_column='occurred_at',
                  grants={'select': ['mat_reader']},
                  persist_docs={'relation': true, 'columns': true},
                  indexes=[{'columns': ['occurred_at']}]) }}
        select e.id, e.occurred_at from {{ source('raw', 'events') }} as e
    """,
}

SCHEMA_YML = """
version: 2
models:
  - name: mat_contract
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints: [{type: not_null}]
      - name: occurred_at
        data_type: timestamp
      - name: amount
        data_type: double precision
  - name: mat_granted
    description: Events, one period at a time.
    columns:
      - name: occurred_at
        description: When the event happened (UTC).
unit_tests:
  - name: mat_unit_doubles_amounts
    model: mat_unit
    given:
      - input: source('raw', 'events')
        rows:
          - {id: 1, occurred_at: "2023-05-02 00:00:00", amount: 1.5}
    expect:
      rows:
        - {id: 1, doubled: 3.0}
"""

# dbt's docs: a package's custom strategy is wired by a root macro of the same name.
DOCUMENTED_SHIM = (
    "{% macro get_incremental_etl_period_sql(arg_dict) %}"
    "{{ return(etl_session.get_incremental_etl_period_sql(arg_dict)) }}{% endmacro %}\n"
)

STRATEGY_MODEL = """
{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
where {{ etl_session.period_filter('e.occurred_at') }}
"""


@pytest.fixture(scope="module")
def mat_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(INTEGRATION_PROJECT, tmp_path_factory.mktemp("mat") / "project")
    for name, sql in MODELS.items():
        (project / "models" / f"{name}.sql").write_text(textwrap.dedent(sql).lstrip())
    (project / "models" / "mat_schema.yml").write_text(SCHEMA_YML.lstrip())
    return project


def _through(base: Warehouse, project: Path) -> Warehouse:
    """`base`, driven through the copy with the materialization's models, with the events."""
    install_packages(project, base.env())
    mine = Warehouse(
        base.name,
        base.workdir,
        base.pg,
        project_dir=project,
        extra_env={"DBT_TARGET_PATH": str(base.workdir / "target-mat")},
    )
    mine.insert_events(EVENTS)
    return mine


@pytest.fixture
def wh(warehouse: Warehouse, mat_project: Path) -> Warehouse:
    return _through(warehouse, mat_project)


@pytest.fixture
def duckdb_wh(duckdb_warehouse: Warehouse, mat_project: Path) -> Warehouse:
    """For what one adapter proves: the same default macros run on both."""
    return _through(duckdb_warehouse, mat_project)


@pytest.fixture
def postgres_wh(postgres_warehouse: Warehouse, mat_project: Path) -> Warehouse:
    return _through(postgres_warehouse, mat_project)


def rows(
    wh: Warehouse, model: str, columns: str = "session_id, id, amount", order: str = "id"
) -> list[tuple]:
    return wh.query(f"select {columns} from analytics.{model} order by {order}")


def build(wh: Warehouse, model: str, period: tuple[str, str], *args: str, check: bool = True):
    return wh.dbt("build", "--select", model, *args, period=period, check=check)


def session_of(wh: Warehouse, model: str) -> dict[int, int]:
    return dict(wh.query(f"select id, session_id from analytics.{model}"))


def join_may(wh: Warehouse, run_id: str) -> dict[str, str]:
    """Open a shared session of May (`etl-session open`); the environment that joins it."""
    opened = subprocess.run(
        [str(BIN / "etl-session"), "open", "--period", "2023-05", "--run-id", run_id,
         "--json", "--project-dir", str(wh.project_dir)],
        cwd=wh.workdir, env=wh.env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stdout + opened.stderr
    return wh.env(json.loads(opened.stdout)["env"])


# -- the period replacement ----------------------------------------------------------------------


def test_the_first_build_creates_the_table_with_only_the_periods_rows(wh: Warehouse) -> None:
    build(wh, "mat_events", MAY)

    assert [(i, a) for _, i, a in rows(wh, "mat_events")] == [(2, 2.0), (3, 3.0), (4, 4.0)]
    [(session_id,)] = wh.query("select session_id from analytics.etl_sessions")
    assert {s for s, _, _ in rows(wh, "mat_events")} == {session_id}


def test_a_reload_replaces_exactly_its_period(wh: Warehouse) -> None:
    build(wh, "mat_events", MAY)
    build(wh, "mat_events", JUNE)
    june_sessions = {i: s for i, s in session_of(wh, "mat_events").items() if i >= 5}
    wh.execute("delete from raw.events where id = 3")  # deleted at the source
    wh.execute("update raw.events set amount = 40 where id = 4")
    wh.execute("insert into raw.events values (7, cast('2023-05-20 00:00:00' as timestamp), 7)")

    build(wh, "mat_events", MAY)

    assert [(i, a) for _, i, a in rows(wh, "mat_events")] == [
        (2, 2.0),
        (4, 40.0),
        (5, 5.0),
        (6, 6.0),
        (7, 7.0),
    ]
    sessions = session_of(wh, "mat_events")
    assert {i: sessions[i] for i in (5, 6)} == june_sessions  # June was not touched
    [(last,)] = wh.query("select max(session_id) from analytics.etl_sessions")
    assert {sessions[i] for i in (2, 4, 7)} == {last}


def test_a_failing_post_hook_rolls_back_the_delete_and_the_insert(wh: Warehouse) -> None:
    build(wh, "mat_events", MAY)
    before = rows(wh, "mat_events")
    wh.execute("delete from raw.events where id = 3")

    run = build(wh, "mat_events", MAY, "--vars", "{mat_fail_post_hook: true}", check=False)

    assert run.returncode == 1, run.output
    assert "no_such_table_in_a_post_hook" in run.output
    assert rows(wh, "mat_events") == before  # the earlier session's rows, all of them
    statuses = wh.query("select status from analytics.etl_sessions order by session_id")
    assert statuses == [("success",), ("error",)]


@pytest.mark.parametrize("model", ["mat_events", "fct_events"])
def test_two_joiners_replacing_one_period_at_once_leave_each_row_once(
    postgres_wh: Warehouse, model: str
) -> None:
    """Two invocations that join one shared session (`etl-session open`) may both build the same
    period model at once: a retried Airflow task beside its zombie, or two tasks whose selections
    share an upstream model. The second starts while the first sits inside its transaction, after
    its delete and insert (a post-hook pause). On Postgres the second's delete cannot see rows
    the first has not committed yet: without a lock it deletes only the old rows and both
    inserts stay, every row of the period twice. Both routes: the materialization and the
    strategy (fct_events)."""
    wh = postgres_wh
    build(wh, model, MAY)
    joined = join_may(wh, "two-joiners")
    command = [str(BIN / "dbt"), "build", "--select", model, "--target", wh.name]
    trials, doubled = 2, 0
    for _ in range(trials):
        first = subprocess.Popen(
            [*command, "--vars", "{pause_in_transaction_seconds: 12}"],
            cwd=wh.project_dir, env=joined, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        seen: list[str] = []
        assert first.stdout is not None
        for line in first.stdout:  # until the first sits inside its transaction
            seen.append(line)
            if "pausing inside the model transaction" in line:
                break
        else:
            first.wait()
            raise AssertionError("".join(seen))
        second = subprocess.run(
            command, cwd=wh.project_dir, env=joined, capture_output=True, text=True, timeout=300
        )
        rest, _ = first.communicate(timeout=300)
        assert first.returncode == 0, "".join(seen) + rest
        assert second.returncode == 0, second.stdout + second.stderr
        ids = [i for (i,) in wh.query(f"select id from analytics.{model} order by id")]
        doubled += len(ids) - len(set(ids))
        assert sorted(set(ids)) == [2, 3, 4], ids  # May's rows, nothing else, nothing lost
    assert doubled == 0, f"{doubled} rows doubled in {trials} trials"
    [(session_id,)] = wh.query(
        "select session_id from analytics.etl_sessions where run_id = 'two-joiners'"
    )
    assert set(session_of(wh, model).values()) == {session_id}


def test_joiners_started_together_each_record_their_results_and_double_nothing(
    postgres_wh: Warehouse,
) -> None:
    """The same race without a pause, as a scheduler starts retried tasks: 3 joiners of one
    shared session build the same period model and its tests at once, 3 rounds. Each must
    succeed, each row stays once, and the session keeps one result per node."""
    wh = postgres_wh
    build(wh, "mat_events", MAY)
    joined = join_may(wh, "three-joiners")
    command = [str(BIN / "dbt"), "build", "--select", "mat_events", "--target", wh.name]
    rounds, failed, doubled = 3, [], 0
    for _ in range(rounds):
        started = [
            subprocess.Popen(
                command,
                cwd=wh.project_dir,
                env=joined,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        for proc in started:
            output, _ = proc.communicate(timeout=300)
            if proc.returncode != 0:
                failed.append(output[-2000:])
        ids = [i for (i,) in wh.query("select id from analytics.mat_events order by id")]
        doubled += len(ids) - len(set(ids))
        assert sorted(set(ids)) == [2, 3, 4], ids
    assert (len(failed), doubled) == (0, 0), failed
    [(session_id,)] = wh.query(
        "select session_id from analytics.etl_sessions where run_id = 'three-joiners'"
    )
    recorded = wh.query(
        "select node_id, count(*) from analytics.etl_session_results where session_id = ?"
        " group by node_id",
        [session_id],
    )
    assert recorded and all(count == 1 for _, count in recorded), recorded
    assert "model.etl_it.mat_events" in {node for node, _ in recorded}


def test_incremental_predicates_limit_the_rows_deleted(duckdb_wh: Warehouse) -> None:
    wh = duckdb_wh
    build(wh, "mat_predicates", MAY)
    wh.execute("update raw.events set amount = amount * 10 where id in (3, 4)")

    build(wh, "mat_predicates", MAY)

    # Only the period's rows with amount < 4 were deleted: the old row 4 stays beside the new.
    assert rows(wh, "mat_predicates", "id, amount", order="id, amount") == [
        (2, 2.0),
        (3, 30.0),
        (4, 4.0),
        (4, 40.0),
    ]


def test_a_unit_test_of_the_model_runs_before_it_on_build(duckdb_wh: Warehouse) -> None:
    run = build(duckdb_wh, "mat_unit", MAY)

    assert "mat_unit_doubles_amounts" in run.output
    assert rows(duckdb_wh, "mat_unit", "id, doubled") == [(2, 4.0), (3, 6.0), (4, 8.0)]


def test_a_load_without_a_period_fails_and_says_how(wh: Warehouse) -> None:
    run = wh.dbt("build", "--select", "mat_events", check=False)

    assert run.returncode != 0
    assert "in model.etl_it.mat_events needs a loading period" in run.output
    assert not wh.table_exists("analytics", "mat_events")


# -- the period column's type --------------------------------------------------------------------


def test_a_date_period_column_is_read_from_the_warehouse(wh: Warehouse) -> None:
    build(wh, "mat_days", MAY)
    build(wh, "mat_days", MAY)

    loaded = wh.query("select id, event_day from analytics.mat_days order by id")
    assert loaded == [(2, date(2023, 5, 1)), (3, date(2023, 5, 15)), (4, date(2023, 5, 31))]


def test_a_declared_type_that_contradicts_the_column_is_an_error(wh: Warehouse) -> None:
    build(wh, "mat_days", MAY)

    run = build(wh, "mat_days", MAY, "--vars", "{mat_declared_type: timestamptz}", check=False)

    assert run.returncode == 1
    assert "declared timestamptz but the column is a date" in run.output


# -- what users expect of an incremental model ---------------------------------------------------


def test_on_schema_change_fail_stops_the_load_and_keeps_the_rows(wh: Warehouse) -> None:
    build(wh, "mat_schema_change", MAY, "--vars", "{mat_on_schema_change: fail}")

    run = build(
        wh,
        "mat_schema_change",
        MAY,
        "--vars",
        "{mat_on_schema_change: fail, mat_new_column: true}",
        check=False,
    )

    assert run.returncode == 1
    assert "out of sync" in run.output
    assert rows(wh, "mat_schema_change", "id, amount") == [(2, 2.0), (3, 3.0), (4, 4.0)]


def test_on_schema_change_append_new_columns_adds_the_column(wh: Warehouse) -> None:
    build(wh, "mat_schema_change", MAY, "--vars", "{mat_on_schema_change: append_new_columns}")

    build(
        wh,
        "mat_schema_change",
        JUNE,
        "--vars",
        "{mat_on_schema_change: append_new_columns, mat_new_column: true}",
    )

    assert rows(wh, "mat_schema_change", "id, amount_x10") == [
        (2, None),
        (3, None),
        (4, None),
        (5, 50.0),
        (6, 60.0),
    ]


def test_on_schema_change_ignore_keeps_the_targets_columns(wh: Warehouse) -> None:
    build(wh, "mat_schema_change", MAY)

    build(wh, "mat_schema_change", JUNE, "--vars", "{mat_new_column: true}")

    columns = wh.query(
        "select column_name from information_schema.columns"
        " where table_schema = 'analytics' and table_name = 'mat_schema_change'"
        " order by ordinal_position"
    )
    assert columns == [("id",), ("occurred_at",), ("amount",)]
    assert [i for (i,) in wh.query("select id from analytics.mat_schema_change")] != []


def test_the_contract_is_enforced_on_every_load(wh: Warehouse) -> None:
    build(wh, "mat_contract", MAY)
    [(nullable,)] = wh.query(
        "select is_nullable from information_schema.columns"
        " where table_schema = 'analytics' and table_name = 'mat_contract' and column_name = 'id'"
    )
    assert nullable == "NO"  # the contract's constraint is in the table's DDL
    build(wh, "mat_contract", MAY)  # a reload of the same keys passes the constraint

    run = build(wh, "mat_contract", JUNE, "--vars", "{mat_break_contract: true}", check=False)

    assert run.returncode == 1
    assert "contract" in run.output.lower()
    assert [i for (i,) in wh.query("select id from analytics.mat_contract order by id")] == [
        2,
        3,
        4,
    ]


def test_full_refresh_rebuilds_the_history_from_etl_period_begin(wh: Warehouse) -> None:
    build(wh, "mat_events", MAY)
    wh.execute("delete from raw.events where id = 3")

    build(wh, "mat_events", JUNE, "--full-refresh")

    # [etl_period_begin = 2023-04-01, end of June): April, May and June, as the source holds them
    assert [i for _, i, _ in rows(wh, "mat_events")] == [1, 2, 4, 5, 6]
    [(full_refresh,)] = wh.query(
        "select full_refresh from analytics.etl_sessions order by session_id desc limit 1"
    )
    assert full_refresh


def test_docs_generate_describes_the_table(wh: Warehouse) -> None:
    build(wh, "mat_events", MAY)

    wh.dbt("docs", "generate", "--select", "mat_events")

    catalog = json.loads((wh.workdir / "target-mat" / "catalog.json").read_text())
    node = catalog["nodes"]["model.etl_it.mat_events"]
    assert [c.lower() for c in node["columns"]] == ["session_id", "id", "occurred_at", "amount"]


def test_grants_docs_and_indexes_on_postgres(postgres_wh: Warehouse) -> None:
    wh = postgres_wh
    wh.execute(
        "do $$ begin if not exists (select from pg_roles where rolname = 'mat_reader')"
        " then create role mat_reader; end if; end $$"
    )

    build(wh, "mat_granted", MAY)
    # Taken away between loads: the reload must grant and describe again, as dbt's incremental
    # materialization does on every run.
    wh.execute("revoke select on analytics.mat_granted from mat_reader")
    wh.execute("comment on table analytics.mat_granted is null")
    wh.execute("comment on column analytics.mat_granted.occurred_at is null")
    build(wh, "mat_granted", JUNE)

    [(granted,)] = wh.query(
        "select has_table_privilege('mat_reader', 'analytics.mat_granted', 'select')"
    )
    assert granted
    [(table_doc, column_doc)] = wh.query(
        "select obj_description('analytics.mat_granted'::regclass),"
        " col_description('analytics.mat_granted'::regclass, 2)"
    )
    assert (table_doc, column_doc) == (
        "Events, one period at a time.",
        "When the event happened (UTC).",
    )
    indexes = wh.query("select indexdef from pg_indexes where tablename = 'mat_granted'")
    assert any("occurred_at" in definition for (definition,) in indexes)
    assert [i for (i,) in wh.query("select id from analytics.mat_granted order by id")] == [
        2,
        3,
        4,
        5,
        6,
    ]


def test_the_postgres_catalog_reads_the_same_columns_as_dbt(postgres_wh: Warehouse) -> None:
    """The materialization reads the target's columns from pg_catalog on Postgres (cheaper on a
    new connection than dbt's information_schema query): the same names, order and period
    kinds, with a quoted mixed-case name and a dropped column in the table."""
    wh = postgres_wh
    wh.execute("create schema if not exists analytics")
    wh.execute("drop table if exists analytics.mat_columns")
    wh.execute(
        'create table analytics.mat_columns (id bigint, gone int, "Happened At" timestamptz,'
        " day date, local_time timestamp, label varchar(10), amount numeric(10, 2))"
    )
    wh.execute("alter table analytics.mat_columns drop column gone")
    run = wh.dbt(
        "run-operation", "it_target_columns", "--args",
        json.dumps({"schema": "analytics", "identifier": "mat_columns"}),
    )  # fmt: skip
    match = re.search(r"it_target_columns (\{.*\})", run.output)
    assert match, run.output
    answer = json.loads(match.group(1))

    assert answer["package"] == answer["dbt"]
    assert answer["package"] == [
        ["id", None, '"id"'],
        ["Happened At", "timestamptz", '"Happened At"'],
        ["day", "date", '"day"'],
        ["local_time", "timestamp", '"local_time"'],
        ["label", None, '"label"'],
        ["amount", None, '"amount"'],
    ]


# -- etl-run -------------------------------------------------------------------------------------


def test_etl_run_loads_the_materialization_in_one_dbt_invocation(wh: Warehouse) -> None:
    log = wh.workdir / "logs" / "dbt.log"
    log.unlink(missing_ok=True)

    run = wh.etl_run("--period", "2023-05", "--select", "mat_events")

    assert run.returncode == 0, run.output
    assert [i for _, i, _ in rows(wh, "mat_events")] == [2, 3, 4]
    assert log.read_text().count("Running with dbt=") == 1


# -- the strategy, wired as dbt's docs say -------------------------------------------------------


def test_the_documented_strategy_shim_works_on_the_second_load(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "documented_shim")
    (project / "macros" / "etl_period.sql").write_text(DOCUMENTED_SHIM)
    (project / "models" / "mat_strategy.sql").write_text(STRATEGY_MODEL)
    install_packages(project, warehouse.env())
    wh = Warehouse(warehouse.name, warehouse.workdir, warehouse.pg, project_dir=project)
    wh.insert_events(EVENTS)

    wh.dbt("build", "--select", "mat_strategy", period=MAY)  # creates the table: no strategy yet
    wh.execute("delete from raw.events where id = 3")
    run = wh.dbt("build", "--select", "mat_strategy", period=MAY, check=False)

    assert run.returncode == 0, run.output
    ids = [i for (i,) in wh.query("select id from analytics.mat_strategy order by id")]
    assert ids == [2, 4]


def test_the_strategy_reads_the_period_columns_type_from_the_target(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "declared")
    (project / "macros" / "etl_period.sql").write_text(DOCUMENTED_SHIM)
    (project / "models" / "mat_strategy.sql").write_text(
        STRATEGY_MODEL.replace(
            "etl_period_column='occurred_at'",
            "etl_period_column='occurred_at', etl_period_data_type='timestamptz'",
        )
    )
    install_packages(project, duckdb_warehouse.env())
    wh = Warehouse("duckdb", duckdb_warehouse.workdir, project_dir=project)
    wh.insert_events(EVENTS)
    wh.dbt("build", "--select", "mat_strategy", period=MAY)

    run = wh.dbt("build", "--select", "mat_strategy", period=MAY, check=False)

    assert run.returncode == 1
    assert "declared timestamptz but the column is a timestamp" in run.output

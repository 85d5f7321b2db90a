"""The etl_session dbt package, driven by real dbt on DuckDB and on Postgres."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
JUNE = ("2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z")
DAY = ("2023-02-01T00:00:00Z", "2023-02-02T00:00:00Z")

EVENTS = [
    (1, "2023-04-30 23:59:59", 1.0),
    (2, "2023-05-01 00:00:00", 2.0),  # exactly at the start of May: loaded with May
    (3, "2023-05-15 12:00:00", 3.0),
    (4, "2023-05-31 23:59:59.999999", 4.0),
    (5, "2023-06-01 00:00:00", 5.0),  # exactly at the end of May: belongs to June
    (6, "2023-06-15 08:00:00", 6.0),
]


def sessions(wh: Warehouse) -> list[tuple]:
    return wh.query(
        "select session_id, source, target, period_start, period_end, status, message,"
        " nodes_ok, nodes_error, nodes_skipped, finished from analytics.etl_sessions"
        " order by session_id"
    )


def facts(wh: Warehouse) -> list[tuple]:
    return wh.query("select session_id, id, amount from analytics.fct_events order by id")


def iso(value) -> str:
    return value.astimezone(__import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_period_load_records_one_session_and_stamps_every_row(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt("build", period=MAY)

    [session] = sessions(warehouse)
    session_id, source, target, start, end, status, _message, ok, error, skipped, finished = session
    assert (source, target, status) == ("etl_it", warehouse.name, "success")
    assert (iso(start), iso(end)) == MAY
    assert (error, skipped) == (0, 0)
    assert finished is not None
    nodes = warehouse.query(
        "select node_id, status from analytics.etl_session_results where session_id = ?",
        [session_id],
    )
    assert ok == len(nodes) > 0
    assert ("model.etl_it.fct_events", "success") in nodes
    assert all(status in {"success", "pass"} for _, status in nodes)
    assert facts(warehouse) == [(session_id, 2, 2.0), (session_id, 3, 3.0), (session_id, 4, 4.0)]


def test_a_sessions_table_of_an_earlier_version_gets_its_missing_columns(
    warehouse: Warehouse,
) -> None:
    """A table made before the columns were added (here: dropped again) gets exactly those back
    on the next load; a table that has them all is left without any DDL."""
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", "-s", "fct_events", period=MAY)
    columns = "select column_name from information_schema.columns where table_name = 'etl_sessions'"
    everything = {name for (name,) in warehouse.query(columns)}
    for name in ("liveness", "closed_by"):
        warehouse.execute(f"alter table analytics.etl_sessions drop column {name}")
    assert {name for (name,) in warehouse.query(columns)} == everything - {"liveness", "closed_by"}

    warehouse.dbt("build", "-s", "fct_events", period=JUNE)

    assert {name for (name,) in warehouse.query(columns)} == everything
    statuses = warehouse.query("select status from analytics.etl_sessions order by session_id")
    assert statuses == [("success",), ("success",)]


def test_a_row_at_the_start_is_loaded_and_a_row_at_the_end_is_not(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt("build", period=MAY)

    loaded = {row[1] for row in facts(warehouse)}
    assert 2 in loaded  # 2023-05-01 00:00:00 == start
    assert 5 not in loaded  # 2023-06-01 00:00:00 == end
    assert 1 not in loaded and 6 not in loaded
    # The shared staging view stays whole: the period lives only where fct_events reads it.
    view_ids = {row[0] for row in warehouse.query("select id from analytics.stg_events")}
    assert view_ids == {row[0] for row in EVENTS}


def test_reloading_a_period_gives_the_same_rows_without_duplicates(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt("build", period=MAY)
    first = [row[1:] for row in facts(warehouse)]
    warehouse.dbt("build", period=MAY)
    second = facts(warehouse)

    assert [row[1:] for row in second] == first
    latest = sessions(warehouse)[-1][0]
    assert {row[0] for row in second} == {latest}


def test_reloading_one_period_leaves_the_adjacent_period_intact(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt("build", period=MAY)
    warehouse.dbt("build", period=JUNE)
    june_before = [row for row in facts(warehouse) if row[1] in {5, 6}]
    warehouse.dbt("build", period=MAY)

    after = facts(warehouse)
    assert [row for row in after if row[1] in {5, 6}] == june_before
    assert [row[1] for row in after] == [2, 3, 4, 5, 6]
    may_session = sessions(warehouse)[-1][0]
    assert {row[0] for row in after if row[1] in {2, 3, 4}} == {may_session}


def test_a_row_deleted_at_the_source_disappears_on_reload(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)

    warehouse.execute("delete from raw.events where id = 3")
    warehouse.dbt("build", period=MAY)

    assert [row[1] for row in facts(warehouse)] == [2, 4]


def test_a_failing_model_closes_the_session_as_error_naming_it(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.dbt("build", "--vars", "{with_failure: true}", period=MAY, check=False)

    assert run.returncode == 1
    [session] = sessions(warehouse)
    session_id, *_, status, message, _ok, error, skipped, finished = session
    assert status == "error"
    assert "model.etl_it.broken" in message
    assert "no_such_table_etl_it" in message
    assert error == 1
    assert skipped == 1  # after_broken depends on broken
    assert finished is not None
    statuses = dict(
        warehouse.query(
            "select node_id, status from analytics.etl_session_results where session_id = ?",
            [session_id],
        )
    )
    assert statuses["model.etl_it.broken"] == "error"
    assert statuses["model.etl_it.after_broken"] == "skipped"
    assert statuses["model.etl_it.fct_events"] == "success"


def test_full_refresh_of_a_period_model_without_begin_is_refused_before_anything_drops(
    warehouse: Warehouse,
) -> None:
    # Reproduces issue 9: `dbt build --full-refresh` with a period rebuilt fct_events from that
    # period alone, silently dropping every other period while their sessions said success.
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)
    before = facts(warehouse)

    run = warehouse.dbt("build", "--full-refresh", period=JUNE, check=False)

    assert run.returncode != 0
    assert "--full-refresh would drop every other period of model.etl_it.fct_events" in run.output
    assert "etl_period_begin" in run.output
    assert facts(warehouse) == before  # nothing dropped, nothing inserted
    assert [row[5] for row in sessions(warehouse)] == ["success"]  # no session for the refusal


def test_full_refresh_with_begin_reloads_the_whole_history_and_keeps_the_session_tables(
    warehouse: Warehouse,
) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)

    warehouse.dbt(
        "build", "--full-refresh", "--vars", "{fct_events_begin: '2023-01-01'}", period=JUNE
    )

    rows = sessions(warehouse)
    assert [row[5] for row in rows] == ["success", "success"]
    assert warehouse.query(
        "select count(distinct session_id) from analytics.etl_session_results"
    ) == [(2,)]
    # rebuilt from etl_period_begin up to the end of June: every period is there again,
    # stamped with the refreshing session, and the session says it was a full refresh
    assert [row[1] for row in facts(warehouse)] == [1, 2, 3, 4, 5, 6]
    assert {row[0] for row in facts(warehouse)} == {rows[-1][0]}
    assert warehouse.query(
        "select full_refresh from analytics.etl_sessions order by session_id"
    ) == [(False,), (True,)]


@pytest.mark.parametrize(
    "command",
    [["parse"], ["compile"], ["docs", "generate"], ["ls"], ["test"], ["run-operation", "noop"]],
    ids=lambda command: " ".join(command),
)
def test_commands_that_load_nothing_open_no_session(warehouse: Warehouse, command) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)
    before = sessions(warehouse)

    warehouse.dbt(*command, period=JUNE)

    assert sessions(warehouse) == before


def test_parse_ls_and_docs_work_without_a_period(warehouse: Warehouse) -> None:
    for command in (["parse"], ["ls"], ["compile"], ["docs", "generate"]):
        warehouse.dbt(*command)

    assert not warehouse.table_exists("analytics", "etl_sessions")


def test_a_model_needing_a_period_fails_without_one_and_says_how(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.dbt("run", "--select", "fct_events", check=False)

    assert run.returncode == 1
    assert "model.etl_it.fct_events needs a loading period" in run.output
    assert 'etl-run --period "[2023-05-01, 2023-05-31]"' in run.output
    assert warehouse.query("select count(*) from analytics.etl_sessions") == [(0,)]


def test_plain_dbt_with_vars_opens_a_session_too(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt(
        "build",
        "--vars",
        '{etl_period_start: "2023-05-01T00:00:00Z", etl_period_end: "2023-06-01T00:00:00Z"}',
    )

    [session] = sessions(warehouse)
    assert (iso(session[3]), iso(session[4]), session[5]) == (*MAY, "success")
    assert [row[1] for row in facts(warehouse)] == [2, 3, 4]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            '{etl_period_start: "yesterday", etl_period_end: "2023-06-01T00:00:00Z"}',
            "etl_session: etl_period_start is yesterday, expected an ISO 8601 timestamp such as"
            " 2023-05-01T00:00:00Z",
        ),
        (
            '{etl_period_start: "2023-06-01", etl_period_end: "2023-05-01"}',
            "etl_session: period end 2023-05-01T00:00:00+00:00 is not after its start"
            " 2023-06-01T00:00:00+00:00",
        ),
        (
            '{etl_period_start: "2023-05-01"}',
            "etl_session: give both etl_period_start and etl_period_end (or neither)",
        ),
        (
            '{etl_period_start: "2023-05-01", etl_period_end: "2023-06-01",'
            " etl_period_timezone: Mars/Olympus}",
            "etl_session: etl_period_timezone is Mars/Olympus, expected an IANA time zone such as"
            " UTC, Europe/Berlin or America/New_York",
        ),
    ],
    ids=["not-a-timestamp", "end-before-start", "half-a-period", "unknown-zone"],
)
def test_plain_dbt_with_bad_period_vars_fails_in_one_line_and_records_nothing(
    warehouse: Warehouse, given: str, message: str
) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.dbt("build", "--vars", given, check=False)

    assert run.returncode != 0, run.output
    [line] = [line for line in run.output.splitlines() if message in line]
    assert "\n" not in line
    assert not warehouse.table_exists("analytics", "fct_events")
    if warehouse.table_exists("analytics", "etl_sessions"):
        assert warehouse.query("select count(*) from analytics.etl_sessions") == [(0,)]


def test_a_new_period_does_not_make_dbt_reparse_the_project(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)

    run = warehouse.dbt("build", "--log-format", "json", "--log-level", "debug", period=JUNE)

    names = {event["info"]["name"] for event in run.events()}
    assert "PartialParsingSkipParsing" in names, sorted(names)
    assert "UnableToPartialParse" not in names


def test_closing_a_closed_session_changes_nothing(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)
    [before] = sessions(warehouse)
    run_id = warehouse.query("select run_id from analytics.etl_sessions")[0][0]

    warehouse.dbt(
        "run-operation",
        "etl_session.end_session",
        "--args",
        f"{{run_id: '{run_id}', status: error, message: interrupted}}",
    )

    assert sessions(warehouse) == [before]


def test_without_the_strategy_shim_the_error_points_to_the_fix(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "no_shim")
    (project / "macros" / "etl_period.sql").unlink()
    install_packages(project, warehouse.env())
    no_shim = Warehouse(warehouse.name, warehouse.workdir, warehouse.pg, project_dir=project)
    warehouse.insert_events(EVENTS)

    run = no_shim.dbt("build", period=MAY, check=False)

    assert run.returncode != 0
    assert "model.etl_it.fct_events uses incremental_strategy='etl_period'" in run.output
    assert "get_incremental_etl_period_sql(arg_dict)" in run.output
    assert "etl_session.get_incremental_etl_period_sql(arg_dict)" in run.output
    assert not warehouse.table_exists("analytics", "fct_events")


def test_postgres_reads_a_period_through_the_index(postgres_warehouse: Warehouse) -> None:
    warehouse = postgres_warehouse
    warehouse.execute(
        "insert into raw.events select g, timestamp '2023-01-01' + g * interval '1 minute', 1"
        " from generate_series(1, 200000) as g"
    )
    warehouse.execute("create index events_occurred_at_idx on raw.events (occurred_at)")
    warehouse.execute("analyze raw.events")

    warehouse.dbt("build", period=DAY)

    # fct_events reads the source through period_source: the filter reaches the index.
    compiled = next((warehouse.workdir / "target" / "compiled").rglob("fct_events.sql"))
    sql = compiled.read_text()
    assert "occurred_at >= cast('2023-02-01 00:00:00' as timestamp)" in sql
    plan = "\n".join(row[0] for row in warehouse.query(f"explain {sql}"))
    assert "events_occurred_at_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_per_node_results_are_written_one_statement_per_chunk(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    # One adapter is enough: both use the same default__ insert macro.
    warehouse = duckdb_warehouse
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "many_models")
    for index in range(250):
        (project / "models" / f"generated_{index:03d}.sql").write_text(f"select {index} as n\n")
    install_packages(project, warehouse.env())
    many = Warehouse(warehouse.name, warehouse.workdir, warehouse.pg, project_dir=project)
    warehouse.insert_events(EVENTS)

    run = many.dbt(
        "run",
        "--select",
        "generated_*",
        "--vars",
        "{etl_session_results_chunk_size: 100}",
        "--log-format",
        "json",
        "--log-level",
        "debug",
        period=MAY,
    )

    statements = [
        event["data"]["sql"]
        for event in run.events()
        if event["info"]["name"] == "SQLQuery"
        and "etl_session_results" in event["data"].get("sql", "")
        and "insert into" in event["data"].get("sql", "").lower()
    ]
    inserts = sum(sql.lower().count("insert into") for sql in statements)
    assert inserts == 3  # 250 nodes in chunks of 100
    assert len(statements) == 1  # ...sent together with the close, in one transaction
    [(count,)] = warehouse.query("select count(*) from analytics.etl_session_results")
    assert count == 250


def test_the_tables_go_where_the_vars_say(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    warehouse.dbt(
        "build",
        "--vars",
        "{etl_session_schema: etl_audit, etl_sessions_table: loads, "
        "etl_session_results_table: load_nodes}",
        period=MAY,
    )

    assert warehouse.table_exists("etl_audit", "loads")
    assert warehouse.table_exists("etl_audit", "load_nodes")
    assert not warehouse.table_exists("analytics", "etl_sessions")
    [(session_id, status)] = warehouse.query("select session_id, status from etl_audit.loads")
    assert status == "success"
    assert {row[0] for row in facts(warehouse)} == {session_id}
    history = warehouse.query("select session_id, status from analytics.etl_session_history")
    assert history == [(session_id, "success")]


def drop_session_tables(warehouse: Warehouse) -> None:
    """The package's tables and views gone, as after a schema was recreated by hand."""
    warehouse.execute("drop view if exists analytics.etl_session_history")
    warehouse.execute("drop view if exists analytics.etl_session_coverage")
    warehouse.execute("drop table analytics.etl_session_results")
    warehouse.execute("drop table analytics.etl_sessions")
    if warehouse.name == "duckdb":
        warehouse.execute("drop sequence analytics.etl_sessions_seq")


def test_a_recreated_sessions_table_never_reuses_an_id_that_rows_carry(
    warehouse: Warehouse,
) -> None:
    # Issue 9: after the sessions tables were recreated, ids restarted at 1 and
    # `etl-session cleanup 1` deleted an older successful session 1's rows.
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)
    warehouse.dbt("build", period=JUNE)
    old_ids = {row[0] for row in facts(warehouse)}
    drop_session_tables(warehouse)

    warehouse.dbt("build", period=JUNE)

    [(new_id,)] = warehouse.query("select session_id from analytics.etl_sessions")
    assert new_id > max(old_ids)
    assert {row[0] for row in facts(warehouse)} == {min(old_ids), new_id}


def test_a_recreated_sessions_table_also_skips_ids_stamped_through_a_wrapper_macro(
    warehouse: Warehouse,
) -> None:
    # The largest id comes from a model that stamps its rows through a macro of the project's
    # own: its manifest entry does not name etl_session.session_id.
    warehouse.insert_events(EVENTS)
    on = "{with_wrapper_stamp: true}"
    warehouse.dbt("build", "--vars", on, period=MAY)
    warehouse.dbt("run", "-s", "stamped_through_wrapper", "--vars", on, period=JUNE)
    warehouse.dbt("run", "-s", "stamped_through_wrapper", "--vars", on, period=MAY)
    largest = max(
        row[0]
        for row in warehouse.query("select session_id from analytics.stamped_through_wrapper")
    )
    assert largest == 3
    drop_session_tables(warehouse)

    warehouse.dbt("run", "-s", "fct_events", "--vars", on, period=JUNE)

    [(new_id,)] = warehouse.query("select session_id from analytics.etl_sessions")
    assert new_id == largest + 1


def test_session_id_without_the_hooks_says_so_instead_of_stamping_nulls(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "no_hooks")
    config = (project / "dbt_project.yml").read_text()
    config = config.split("on-run-start:", 1)[0] + "vars:" + config.split("\nvars:", 1)[1]
    (project / "dbt_project.yml").write_text(config)
    install_packages(project, duckdb_warehouse.env())
    wh = Warehouse("duckdb", duckdb_warehouse.workdir, None, project_dir=project)
    wh.insert_events(EVENTS)

    run = wh.dbt("run", "-s", "fct_events", period=MAY, check=False)

    assert run.returncode == 1
    assert "etl_session.session_id() needs a session, and this project opens none" in run.output
    assert 'on-run-start: ["{{ etl_session.open_session() }}"]' in run.output

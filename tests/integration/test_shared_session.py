"""One session across many dbt invocations, end to end with real processes: `etl-session open`,
plain dbt and etl-run joining it by its run id, `etl-session close RUN_ID`; the Python API
(`open_session`, `close_session`, `ETLSession`); and the DuckDB file given back after an
in-process `etl_session.run()`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

from warehouse import BIN, DbtRun, Warehouse

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-05-02 00:00:00", 1.0),
    (2, "2023-05-20 10:00:00", 2.0),
    (3, "2023-06-03 00:00:00", 3.0),
]
MAY = {
    "ETL_SESSION_PERIOD_START": "2023-05-01T00:00:00Z",
    "ETL_SESSION_PERIOD_END": "2023-06-01T00:00:00Z",
}


def etl_session(wh: Warehouse, *args: str, env: Mapping[str, str] | None = None) -> DbtRun:
    command = [str(BIN / "etl-session"), *args, "--project-dir", str(wh.project_dir)]
    proc = subprocess.run(
        command, cwd=wh.workdir, env=wh.env(env), capture_output=True, text=True, timeout=600
    )
    return DbtRun(command, proc.returncode, proc.stdout, proc.stderr)


def open_may(wh: Warehouse, run_id: str = "airflow-run-1") -> dict[str, Any]:
    opened = etl_session(wh, "open", "--period", "2023-05", "--run-id", run_id, "--json")
    assert opened.returncode == 0, opened.output
    return dict(json.loads(opened.stdout))


def sessions(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "select session_id, run_id, status, liveness, closed_by, nodes_ok, nodes_error,"
        " nodes_skipped, message from analytics.etl_sessions order by session_id"
    )


def results(wh: Warehouse, session_id: int) -> dict[str, str]:
    rows = wh.query(
        "select node_id, status from analytics.etl_session_results where session_id = ?",
        [session_id],
    )
    return {str(node): str(status) for node, status in rows}


def stamped(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query("select id, session_id from analytics.fct_events order by id")


def test_plain_dbt_and_etl_run_join_one_session_that_close_ends(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)
    session_id = opened["session_id"]
    assert opened["run_id"] == "airflow-run-1"
    assert (opened["period_start"], opened["period_end"]) == (
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
    )
    assert opened["env"] == {
        **MAY,
        "ETL_SESSION_RUN_ID": "airflow-run-1",
        "ETL_SESSION_PERIOD_TIMEZONE": "UTC",
        "ETL_SESSION_SOURCE": "etl_it",
    }

    # Plain dbt, given the environment open printed, loads the staging view and fct_events.
    wh.dbt("build", "-s", "stg_events", "fct_events", env=opened["env"])
    # etl-run, given the run id and the session's period.
    joined = wh.etl_run(
        "--period",
        "2023-05",
        "-s",
        "daily_amounts",
        "--json",
        env={"ETL_SESSION_RUN_ID": "airflow-run-1"},
    )
    assert joined.returncode == 0, joined.output
    outcome = json.loads(joined.stdout)
    assert (outcome["session_id"], outcome["joined"], outcome["status"]) == (
        session_id,
        True,
        "success",
    )
    assert outcome["period_start"] == "2023-05-01T00:00:00Z"

    # One session, still running; every row it wrote carries its id.
    [row] = sessions(wh)
    assert row[:4] == (session_id, "airflow-run-1", "running", "external")
    assert stamped(wh) == [(1, session_id), (2, session_id)]
    recorded = results(wh, session_id)
    assert {node: status for node, status in recorded.items() if node.startswith("model.")} == {
        "model.etl_it.stg_events": "success",
        "model.etl_it.fct_events": "success",
        "model.etl_it.daily_amounts": "success",
    }
    tests = sorted(node.split(".")[2] for node in recorded if node.startswith("test."))
    assert tests == ["not_null_fct_events_id", "not_null_fct_events_session_id"]
    assert set(recorded.values()) == {"success", "pass"}

    closed = etl_session(wh, "close", "airflow-run-1")
    assert closed.returncode == 0, closed.output
    assert closed.stdout.strip() == f"session {session_id} closed as success: 5 ok (5/0/0)"
    [row] = sessions(wh)
    assert row[2:8] == ("success", "external", "owner", 5, 0, 0)

    again = etl_session(wh, "close", "airflow-run-1", "--json")
    assert again.returncode == 0, again.output
    answer = json.loads(again.stdout)
    assert (answer["closed"], answer["status"], answer["previous_status"]) == (
        False,
        "success",
        "success",
    )


def test_a_failure_in_any_invocation_closes_the_session_as_error(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)
    wh.dbt("build", "-s", "fct_events", env=opened["env"])
    failed = wh.dbt(
        "run", "-s", "broken", "--vars", "{with_failure: true}", env=opened["env"], check=False
    )
    assert failed.returncode == 1, failed.output

    closed = etl_session(wh, "close", "airflow-run-1")

    assert closed.returncode == 1, closed.output
    [row] = sessions(wh)
    assert row[2:8] == ("error", "external", "owner", 3, 1, 0)
    assert row[8].startswith("1 failed, 0 skipped; first: model.etl_it.broken (error): ")
    assert f"session {row[0]} closed as error: 1 failed" in closed.stdout


def test_a_retried_node_keeps_only_its_latest_result(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)
    env = {**opened["env"], "ETL_IT_DUCKDB_PATH": str(wh.duckdb_path)}
    failed = wh.dbt("run", "-s", "broken", "--vars", "{with_failure: true}", env=env, check=False)
    assert failed.returncode == 1
    wh.execute("create table analytics.no_such_table_etl_it as select 1 as x")
    wh.dbt("run", "-s", "fct_events", "broken", "--vars", "{with_failure: true}", env=env)

    closed = etl_session(wh, "close", "airflow-run-1", "--json")

    assert json.loads(closed.stdout)["status"] == "success", closed.output
    assert results(wh, opened["session_id"]) == {
        "model.etl_it.broken": "success",
        "model.etl_it.fct_events": "success",
    }


def test_close_with_status_error_records_why(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)
    wh.dbt("build", "-s", "fct_events", env=opened["env"])

    closed = etl_session(
        wh, "close", "airflow-run-1", "--status", "error", "--message", "task extract failed"
    )

    assert closed.returncode == 1, closed.output
    [row] = sessions(wh)
    assert row[2] == "error"
    assert row[8] == "closed as error: task extract failed"


def test_nothing_ran_is_an_error(warehouse: Warehouse) -> None:
    opened = open_may(warehouse)
    closed = etl_session(warehouse, "close", str(opened["session_id"]), "--json")
    assert closed.returncode == 1, closed.output
    assert json.loads(closed.stdout)["message"] == "nothing ran in this session"


def test_another_load_is_refused_while_a_shared_session_runs(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)

    other = wh.etl_run("--period", "2023-06", "-q")
    second_open = etl_session(wh, "open", "--period", "2023-06", "--run-id", "other")
    plain = wh.dbt("build", "-s", "fct_events", env={**MAY, "ETL_SESSION_RUN_ID": "x"}, check=False)

    assert other.returncode == 2, other.output
    assert f"session {opened['session_id']} " in other.output
    assert second_open.returncode == 2, second_open.output
    assert second_open.stderr.startswith(
        "Error: another load of this project and target is running: session "
    )
    assert plain.returncode != 0
    assert "opened by etl-session open with run id airflow-run-1" in plain.output
    # The shared session is alive: nobody took it for abandoned (DuckDB: not even the file lock).
    assert [row[1:4] for row in sessions(wh)] == [("airflow-run-1", "running", "external")]


def test_reopening_a_running_session_returns_it(duckdb_warehouse: Warehouse) -> None:
    first = open_may(duckdb_warehouse)
    again = open_may(duckdb_warehouse)
    assert (again["session_id"], again["reopened"]) == (first["session_id"], True)
    assert len(sessions(duckdb_warehouse)) == 1


def test_joining_with_another_period_or_a_closed_session_is_refused(
    warehouse: Warehouse,
) -> None:
    wh = warehouse
    wh.insert_events(EVENTS)
    opened = open_may(wh)
    june = {**opened["env"], "ETL_SESSION_PERIOD_START": "2023-06-01T00:00:00Z",
            "ETL_SESSION_PERIOD_END": "2023-07-01T00:00:00Z"}  # fmt: skip

    plain = wh.dbt("build", "-s", "fct_events", env=june, check=False)
    run = wh.etl_run("--period", "2023-06", "-q", env={"ETL_SESSION_RUN_ID": "airflow-run-1"})

    assert plain.returncode != 0
    assert (
        "etl_session: this invocation's period 2023-06-01T00:00:00Z → 2023-07-01T00:00:00Z (UTC) "
        "is not the period of session " in plain.output
    )
    assert run.returncode == 2, run.output
    assert (
        "--period 2023-06 (2023-06-01T00:00:00Z → 2023-07-01T00:00:00Z) is not the period of "
        "session " in run.output
    )
    assert not wh.table_exists("analytics", "fct_events")  # nothing was loaded

    etl_session(wh, "close", "airflow-run-1", "--status", "error")
    late = wh.dbt("build", "-s", "fct_events", env=opened["env"], check=False)
    late_run = wh.etl_run("--period", "2023-05", "-q", env={"ETL_SESSION_RUN_ID": "airflow-run-1"})
    assert late.returncode != 0
    assert "is already error: a closed session cannot be joined" in late.output
    assert late_run.returncode == 2
    assert "is already error: a closed session cannot be joined" in late_run.output
    assert len(sessions(wh)) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--period", "2023-13"], "Error: "),
        (["--period", "2023-05", "--timezone", "Mars/Base"], "Error: "),
        (["--period", "2023-05", "--run-id", " padded "], "Error: a run id is 1 to 255"),
        (["--period", "2023-05", "--vars", "[1, 2]"], "Error: --vars must be a YAML mapping"),
    ],
)
def test_bad_input_to_open_exits_2_and_writes_nothing(
    duckdb_warehouse: Warehouse, args: list[str], error: str
) -> None:
    opened = etl_session(duckdb_warehouse, "open", *args)
    assert opened.returncode == 2, opened.output
    assert opened.stderr.startswith(error) and opened.stderr.count("\n") == 1, opened.stderr
    assert "Traceback" not in opened.output
    assert not duckdb_warehouse.table_exists("analytics", "etl_sessions")


#: Another process opens the DuckDB file and counts fct_events.
PEEK = (
    "import duckdb, os; con = duckdb.connect(os.environ['ETL_IT_DUCKDB_PATH']); "
    "print(con.execute('select count(*) from analytics.fct_events').fetchone()[0])"
)

SCRIPT = f"""
import json, subprocess, sys
import etl_session

project = sys.argv[1]
try:
    with etl_session.ETLSession("2023-05", project_dir=project, run_id="py-1") as session:
        first = etl_session.run(
            run_id=session.run_id, project_dir=project, select="fct_events", quiet=True)
        # The DuckDB file is free between the loads: another process can read it.
        peek = subprocess.run([sys.executable, "-c", {PEEK!r}], capture_output=True, text=True)
        second = etl_session.run(
            run_id=session.run_id, project_dir=project, select="daily_amounts", quiet=True)
        raise RuntimeError("the extract step failed")
except RuntimeError:
    pass
print(json.dumps({{"first": first.as_dict(), "second": second.as_dict(), "peek": peek.returncode,
                  "peek_err": peek.stderr[-300:], "closed": session.closed.as_dict()}}))
"""


def test_etl_session_context_manager_closes_error_on_an_exception(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(wh.project_dir)],
        cwd=wh.workdir,
        env=wh.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["first"]["joined"], out["second"]["joined"]) == (True, True)
    assert out["first"]["session_id"] == out["second"]["session_id"] == out["closed"]["session_id"]
    assert out["peek"] == 0, out["peek_err"]
    assert out["closed"]["status"] == "error"
    assert out["closed"]["message"] == "closed as error: RuntimeError: the extract step failed"
    [row] = sessions(wh)
    assert row[2] == "error"
    assert set(results(wh, row[0])) >= {"model.etl_it.fct_events", "model.etl_it.daily_amounts"}


RELEASE = f"""
import subprocess, sys
import etl_session

result = etl_session.run("2023-05", project_dir=sys.argv[1], select="fct_events", quiet=True)
assert result.ok, result.as_dict()
# Still in this process, which imported dbt and ran it: another process opens the file.
peek = subprocess.run([sys.executable, "-c", {PEEK!r}], capture_output=True, text=True)
print(peek.returncode, peek.stdout.strip(), peek.stderr.strip()[-300:])
"""


def test_the_duckdb_file_is_free_for_other_processes_after_run_returns(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RELEASE), str(wh.project_dir)],
        cwd=wh.workdir,
        env=wh.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 2", proc.stdout


def test_etl_session_list_on_duckdb_does_not_sweep_a_shared_session(
    duckdb_warehouse: Warehouse,
) -> None:
    open_may(duckdb_warehouse)
    listed = etl_session(duckdb_warehouse, "list")
    assert listed.returncode == 0, listed.output
    assert [row[2] for row in sessions(duckdb_warehouse)] == ["running"]


def test_etl_run_joins_by_run_id_alone_and_refuses_to_backfill_into_it(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events([(1, "2023-05-02 00:00:00", 1.0), (2, "2023-06-02 00:00:00", 2.0)])
    session_id = open_may(wh, "joined-by-flag")["session_id"]

    joined = wh.etl_run("--run-id", "joined-by-flag", "-s", "fct_events", "--json")

    assert joined.returncode == 0, joined.output
    outcome = json.loads(joined.stdout)
    assert (outcome["session_id"], outcome["joined"]) == (session_id, True)
    assert outcome["period_start"] == "2023-05-01T00:00:00Z"  # the session's period
    assert stamped(wh) == [(1, session_id)]
    refused = wh.etl_run("--run-id", "joined-by-flag", "--split", "day")
    assert refused.returncode == 2, refused.output
    assert refused.stderr == (
        "Error: --run-id joins one shared session: --split, --missing, --until, --lookback, "
        "--keep-going, --reload and --per-run load many sessions of their own\n"
    )
    assert [row[2] for row in sessions(wh)] == ["running"]

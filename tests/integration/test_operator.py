"""etl-session end to end: a real process, real dbt, a real DuckDB file and a real Postgres."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from warehouse import BIN, DbtRun, Warehouse

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-05-02 00:00:00", 1.0),
    (2, "2023-05-20 10:00:00", 2.0),
    (3, "2023-06-03 00:00:00", 3.0),
    (4, "2023-06-30 23:59:59", 4.0),
]
ROW = re.compile(
    r"^ *(\d+)  etl_it → (\w+) +(\S+ → \S+)  (success|error) +"
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)  ([\d.]+ s) +(\d+/\d+/\d+)$"
)
RECORDED = r"deleted 2 rows from analytics\.fct_events at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
# Every load started with SLOW is killed by its test: the slow model only has to outlast the
# etl-session commands run meanwhile, which take several seconds each on a loaded machine. On
# DuckDB its rows take minutes of CPU: however busy the machine, the load is still running.
SLOW = "{with_slow: true, slow_seconds: 300, slow_rows: 200000000000}"
WEB = "{with_web_sessions: true}"


def etl_session(
    wh: Warehouse,
    subcommand: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: int | None = None,
) -> DbtRun:
    """Run etl-session as an operator would: a new process, its output and exit code."""
    command = [
        str(BIN / "etl-session"), subcommand, "--project-dir", str(wh.project_dir), *args
    ]  # fmt: skip
    proc = subprocess.run(
        command,
        cwd=wh.workdir,
        env=wh.env(env),
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return DbtRun(command, proc.returncode, proc.stdout, proc.stderr)


def load_may_then_fail_june(wh: Warehouse) -> tuple[int, int]:
    """Session ok: May loaded; session failed: June, whose fct_events rows stay behind."""
    wh.insert_events(EVENTS)
    may = wh.etl_run("--period", "2023-05", "-q")
    assert may.returncode == 0, may.output
    june = wh.etl_run("--period", "2023-06", "-q", "--vars", "{with_failure: true}")
    assert june.returncode == 1, june.output
    ok, failed = (row[0] for row in wh.query(sessions_sql("session_id")))
    return ok, failed


def start_load(
    wh: Warehouse,
    command: list[str],
    env: Mapping[str, str] | None = None,
    after: str | None = None,
) -> Any:
    """A load in the background that reaches the slow model (its session is open by then),
    and has printed a line containing `after` when given."""
    proc = subprocess.Popen(
        command,
        cwd=wh.workdir,
        env=wh.env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        started = any("START sql table model" in it and "slow" in it for it in seen)
        if started and (after is None or any(after in it for it in seen)):
            return proc
    raise AssertionError("the load never reached the slow model:\n" + "".join(seen))


def kill(wh: Warehouse, proc: Any) -> None:
    """SIGKILL: no hook, no repair. On Postgres also end the slow query it left behind."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if wh.name == "postgres":
        wh.query(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where query like '%pg_sleep%' and pid <> pg_backend_pid()"
        )


def session_row(wh: Warehouse, session_id: int) -> tuple[Any, ...]:
    [row] = wh.query(
        "select status, message, closed_by, finished is not null, liveness"
        f" from analytics.etl_sessions where session_id = {session_id}"
    )
    return row


def running(wh: Warehouse) -> list[int]:
    return [row[0] for row in wh.query(sessions_sql("session_id, status")) if row[1] == "running"]


def sessions_sql(columns: str) -> str:
    return f"select {columns} from analytics.etl_sessions order by session_id"


def facts(wh: Warehouse) -> list[tuple[int, int]]:
    return wh.query("select session_id, id from analytics.fct_events order by id")


def test_without_a_sessions_table_list_is_empty(warehouse: Warehouse) -> None:
    text = etl_session(warehouse, "list")
    as_json = etl_session(warehouse, "list", "--json")

    assert (text.returncode, as_json.returncode) == (0, 0), text.output + as_json.output
    assert text.stdout == "no sessions yet: analytics.etl_sessions does not exist\n"
    assert json.loads(as_json.stdout) == []
    assert "Traceback" not in text.output + as_json.output


def test_list_shows_the_newest_sessions_first_and_filters_them(warehouse: Warehouse) -> None:
    first_day = datetime.now(timezone.utc).date()
    ok, failed = load_may_then_fail_june(warehouse)
    last_day = datetime.now(timezone.utc).date()

    table = etl_session(warehouse, "list")
    everything = etl_session(warehouse, "list", "--json")
    assert everything.returncode == 0, everything.output
    # The UTC days the sessions started on: the test's days unless UTC midnight passed meanwhile.
    started = {s["session_id"]: s["started"] for s in json.loads(everything.stdout)}
    ok_day, today = (datetime.fromisoformat(started[i][:10]).date() for i in (ok, failed))
    assert first_day <= ok_day <= today <= last_day, (first_day, started, last_day)
    errors = etl_session(
        warehouse, "list", "--json", "--status", "error", "--session-target", warehouse.name,
        "--since", today.isoformat(), "--until", today.isoformat(),
    )  # fmt: skip
    newest = etl_session(warehouse, "list", "--json", "--limit", "1")
    before = etl_session(warehouse, "list", "--until", (ok_day - timedelta(days=1)).isoformat())

    assert table.returncode == 0, table.output
    header, *lines = table.stdout.splitlines()
    assert header.split() == [
        "id", "source", "→", "target", "period", "status", "started", "duration",
        "ok/error/skipped",
    ]  # fmt: skip
    rows = [ROW.match(line) for line in lines]
    assert all(rows), table.stdout
    assert [row.group(1, 2, 3, 4) for row in rows if row] == [
        (str(failed), warehouse.name, "2023-06-01T00:00:00Z → 2023-07-01T00:00:00Z", "error"),
        (str(ok), warehouse.name, "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z", "success"),
    ]
    counts = warehouse.query(sessions_sql("nodes_ok, nodes_error, nodes_skipped"))
    assert [row.group(7) for row in reversed(rows) if row] == [
        "/".join(map(str, row)) for row in counts
    ]
    assert counts[1][1:] == (1, 1)

    sessions = json.loads(everything.stdout)
    assert [session["session_id"] for session in sessions] == [failed, ok]
    first = sessions[0]
    assert set(first) == {
        "session_id", "source", "target", "period_start", "period_end", "run_id",
        "invocation_id", "dbt_command", "started", "finished", "duration_seconds", "status",
        "message", "nodes_ok", "nodes_error", "nodes_skipped", "runner_host", "runner_pid",
        "cleanup", "project", "period_timezone", "full_refresh", "selection", "liveness",
        "closed_by",
    }  # fmt: skip
    assert (first["project"], first["period_timezone"], first["closed_by"]) == (
        "etl_it", "UTC", "hook"
    )  # fmt: skip
    assert (first["period_start"], first["period_end"]) == (
        "2023-06-01T00:00:00Z",
        "2023-07-01T00:00:00Z",
    )
    assert first["started"].startswith(today.isoformat()) and first["started"].endswith("Z")
    assert first["finished"].endswith("Z") and first["duration_seconds"] > 0
    assert (first["source"], first["target"], first["dbt_command"]) == (
        "etl_it",
        warehouse.name,
        "build",
    )
    assert [session["session_id"] for session in json.loads(errors.stdout)] == [failed]
    assert [session["session_id"] for session in json.loads(newest.stdout)] == [failed]
    assert (before.returncode, before.stdout) == (0, "no sessions\n")


def test_show_prints_every_field_the_node_results_and_the_error(warehouse: Warehouse) -> None:
    _, failed = load_may_then_fail_june(warehouse)

    text = etl_session(warehouse, "show", str(failed))
    as_json = etl_session(warehouse, "show", str(failed), "--json")
    unknown = etl_session(warehouse, "show", "999")

    assert text.returncode == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0] == f"session {failed} error"
    results_at = next(i for i, line in enumerate(lines) if line.startswith("results"))
    fields = dict(line.strip().split(None, 1) for line in lines[1:results_at])
    assert fields["period_start"] == "2023-06-01T00:00:00Z"
    assert fields["status"] == "error"
    assert fields["message"].startswith("1 failed, 1 skipped; first: model.etl_it.broken (error): ")
    [(nodes_ok,)] = warehouse.query(
        f"select nodes_ok from analytics.etl_sessions where session_id = {failed}"
    )
    assert (fields["nodes_ok"], fields["nodes_error"], fields["nodes_skipped"]) == (
        str(nodes_ok),
        "1",
        "1",
    )
    assert fields["cleanup"] == "-"
    assert lines[results_at] == f"results ({nodes_ok + 2} nodes)"
    assert (fields["period_timezone"], fields["closed_by"], fields["project"]) == (
        "UTC", "hook", "etl_it"
    )  # fmt: skip
    broken = next(line for line in lines[results_at:] if "model.etl_it.broken " in line)
    assert re.search(
        r"model +error +[\d.]+ s +\S+ +(Runtime|Database) Error in model broken", broken
    )

    detail = json.loads(as_json.stdout)
    assert (detail["session_id"], detail["status"]) == (failed, "error")
    nodes = {node["node_id"]: node for node in detail["nodes"]}
    assert set(nodes["model.etl_it.fct_events"]) == {
        "node_id", "resource_type", "status", "message", "execution_time", "rows_affected"
    }  # fmt: skip
    assert nodes["model.etl_it.fct_events"]["status"] == "success"
    assert nodes["model.etl_it.broken"]["status"] == "error"
    assert nodes["model.etl_it.after_broken"]["status"] == "skipped"

    assert unknown.returncode == 2
    assert unknown.stderr == "Error: no session 999\n"
    assert unknown.stdout == ""


def test_cleanup_deletes_only_the_failed_sessions_rows_and_records_it(
    warehouse: Warehouse,
) -> None:
    ok, failed = load_may_then_fail_june(warehouse)
    loaded = [(ok, 1), (ok, 2), (failed, 3), (failed, 4)]
    assert facts(warehouse) == loaded

    refused = etl_session(warehouse, "cleanup", str(ok), "--yes")
    assert refused.returncode == 2
    assert refused.stderr == (
        f"Error: session {ok} is success: only error sessions can be cleaned up\n"
    )

    dry_run = etl_session(warehouse, "cleanup", str(failed), "--dry-run")
    assert dry_run.returncode == 0, dry_run.output
    assert dry_run.stdout == (
        f"session {failed} (error): would delete 2 rows\n  analytics.fct_events  2 rows\n"
    )

    master, terminal = pty.openpty()  # a person at a terminal, who answers no
    try:
        os.write(master, b"n\n")
        declined = etl_session(warehouse, "cleanup", str(failed), stdin=terminal)
    finally:
        os.close(terminal)
        os.close(master)
    assert declined.returncode == 0, declined.output
    assert f"Delete 2 rows of session {failed}? [y/N]" in declined.stderr
    assert declined.stderr.endswith("nothing deleted\n")
    assert facts(warehouse) == loaded

    cleaned = etl_session(warehouse, "cleanup", str(failed), "--yes", "--json")
    assert cleaned.returncode == 0, cleaned.output
    outcome = json.loads(cleaned.stdout)
    assert outcome["models"] == [
        {"node_id": "model.etl_it.fct_events", "relation": "analytics.fct_events", "rows": 2}
    ]
    assert (outcome["session_id"], outcome["deleted"], outcome["rows"]) == (failed, True, 2)
    assert re.fullmatch(RECORDED, outcome["cleanup"])
    assert facts(warehouse) == [(ok, 1), (ok, 2)]
    statuses = warehouse.query(sessions_sql("status, cleanup"))
    assert statuses[0] == ("success", None)
    assert statuses[1][0] == "error"
    assert statuses[1][1] == outcome["cleanup"]

    again = etl_session(warehouse, "cleanup", str(failed), "--yes")
    assert again.returncode == 0, again.output
    assert again.stdout.splitlines()[:2] == [
        f"session {failed} (error): deleted 0 rows",
        "  analytics.fct_events  0 rows",
    ]
    recorded = warehouse.query(sessions_sql("cleanup"))[1][0]
    assert re.fullmatch(f"{RECORDED}; {RECORDED.replace('2 rows', '0 rows')}", recorded)
    assert facts(warehouse) == [(ok, 1), (ok, 2)]


def test_an_unreachable_warehouse_exits_2_with_one_line_and_no_traceback(
    warehouse: Warehouse, tmp_path: os.PathLike[str]
) -> None:
    unreachable = {
        "ETL_IT_PG_PORT": "1",  # nothing listens on port 1
        "ETL_IT_DUCKDB_PATH": os.path.join(tmp_path, "no", "such", "folder", "x.duckdb"),
    }

    run = etl_session(warehouse, "list", env=unreachable)

    assert run.returncode == 2, run.output
    assert run.stderr.startswith("Error: dbt could not list the sessions")
    assert run.stderr.count("\n") == 1
    assert run.stdout == ""
    assert "Traceback" not in run.output


# --- close and abandoned sessions -----------------------------------------------------------


def test_close_on_duckdb_closes_a_killed_load_once(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    load_may_then_fail_june(wh)
    proc = start_load(wh, wh.etl_run_command("--period", "2023-07", "--vars", SLOW, "-s", "slow"))
    kill(wh, proc)
    [left] = running(wh)

    closed = etl_session(wh, "close", str(left), "--message", "killed  by\nhand")
    again = etl_session(wh, "close", str(left), "--json")
    unknown = etl_session(wh, "close", "999")

    # This process holds the DuckDB file, so the load's owner is gone: no --force needed.
    assert closed.returncode == 0, closed.output
    assert closed.stdout == (
        f"session {left} closed as error: closed by operator: killed by hand\n"
    )
    assert session_row(wh, left)[:4] == (
        "error", "closed by operator: killed by hand", "operator", True
    )  # fmt: skip
    assert again.returncode == 0, again.output
    outcome = json.loads(again.stdout)
    assert (outcome["closed"], outcome["status"], outcome["message"]) == (
        False, "error", "closed by operator: killed by hand"
    )  # fmt: skip
    assert (unknown.returncode, unknown.stderr) == (2, "Error: no session 999\n")


def test_list_closes_a_killed_duckdb_load_as_abandoned(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    load_may_then_fail_june(wh)
    proc = start_load(wh, wh.etl_run_command("--period", "2023-07", "--vars", SLOW, "-s", "slow"))
    kill(wh, proc)
    [left] = running(wh)

    listed = etl_session(wh, "list")

    assert listed.returncode == 0, listed.output
    assert listed.stderr == (f"closed running session {left} as abandoned: its owner is gone\n")
    status, message, closed_by, finished, _ = session_row(wh, left)
    assert (status, closed_by, finished) == ("error", "abandoned", True)
    assert message.startswith("abandoned: ")
    assert re.search(rf"^ *{left}  etl_it → duckdb .* error ", listed.stdout, re.M)


def test_close_on_postgres_is_refused_while_the_load_holds_its_lock(
    postgres_warehouse: Warehouse,
) -> None:
    wh = postgres_warehouse
    load_may_then_fail_june(wh)
    proc = start_load(wh, wh.etl_run_command("--period", "2023-07", "--vars", SLOW, "-s", "slow"))
    try:
        [alive] = running(wh)
        assert session_row(wh, alive)[4] == "lock"

        refused = etl_session(wh, "close", str(alive))
        listed = etl_session(wh, "list", "--json")

        assert refused.returncode == 2, refused.output
        assert refused.stderr == (
            f"Error: session {alive} is running and its owner is alive (it holds its lock in the "
            "warehouse): nothing changed; wait for it to end, or pass --force\n"
        )
        assert listed.returncode == 0 and listed.stderr == "", listed.output
        assert running(wh) == [alive]  # a live load is never swept

        forced = etl_session(wh, "close", str(alive), "--force", "--message", "stuck")
        assert forced.returncode == 0, forced.output
        assert session_row(wh, alive)[:3] == ("error", "closed by operator: stuck", "operator")
    finally:
        kill(wh, proc)

    # A killed etl-run's connection is gone, and its lock with it: list closes it.
    proc = start_load(wh, wh.etl_run_command("--period", "2023-08", "--vars", SLOW, "-s", "slow"))
    kill(wh, proc)
    [dead] = running(wh)

    listed = etl_session(wh, "list")

    assert listed.returncode == 0, listed.output
    assert listed.stderr == f"closed running session {dead} as abandoned: its owner is gone\n"
    assert session_row(wh, dead)[2] == "abandoned"
    assert session_row(wh, alive)[2] == "operator"


def test_a_plain_dbt_session_on_postgres_is_closed_only_with_force(
    postgres_warehouse: Warehouse,
) -> None:
    wh = postgres_warehouse
    load_may_then_fail_june(wh)
    env = {
        "ETL_SESSION_PERIOD_START": "2023-07-01T00:00:00Z",
        "ETL_SESSION_PERIOD_END": "2023-08-01T00:00:00Z",
    }
    dbt = [str(BIN / "dbt"), "build", "-s", "slow", "--vars", SLOW, "--target", "postgres",
           "--project-dir", str(wh.project_dir)]  # fmt: skip
    proc = start_load(wh, dbt, env)
    kill(wh, proc)
    [unknown] = running(wh)
    assert session_row(wh, unknown)[4] is None  # nothing tells whether plain dbt is alive

    blocked = wh.etl_run("--period", "2023-09", "-s", "fct_events")
    listed = etl_session(wh, "list")
    refused = etl_session(wh, "close", str(unknown))
    forced = etl_session(wh, "close", str(unknown), "--force", "--message", "dbt was killed")

    # The next load is blocked by it, and is told how to end that, not only to wait.
    assert blocked.returncode == 2, blocked.output
    assert (
        f"running: session {unknown} (2023-07-01T00:00:00Z → 2023-08-01T00:00:00Z, started "
    ) in blocked.stderr
    assert blocked.stderr.rstrip().endswith(
        "it holds no lock (opened by plain dbt?), so nothing can tell whether its owner is alive:"
        f" once you know it is gone, etl-session close {unknown} --force"
    ), blocked.stderr
    assert listed.returncode == 0 and listed.stderr == "", listed.output
    assert refused.returncode == 2, refused.output
    assert refused.stderr == (
        f"Error: session {unknown} is running and nobody can tell whether its owner is alive "
        "(it holds no lock: opened by plain dbt on Postgres?): nothing changed; make sure the "
        "load is gone, then pass --force\n"
    )
    assert forced.returncode == 0, forced.output
    assert session_row(wh, unknown)[:4] == (
        "error", "closed by operator: dbt was killed", "operator", True
    )  # fmt: skip


# --- cleanup owns only what the session wrote -------------------------------------------------


def web_visits(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query("select session_id, page from analytics.operator_web_sessions order by 1")


def test_cleanup_leaves_a_table_whose_session_id_means_something_else(
    warehouse: Warehouse,
) -> None:
    warehouse.insert_events(EVENTS)
    may = warehouse.etl_run("--period", "2023-05", "-q", "--vars", WEB)
    both = "{with_failure: true, with_web_sessions: true}"
    june = warehouse.etl_run("--period", "2023-06", "-q", "--vars", both)
    assert (may.returncode, june.returncode) == (0, 1), may.output + june.output
    ok, failed = (row[0] for row in warehouse.query(sessions_sql("session_id")))
    visits = web_visits(warehouse)
    assert failed in [row[0] for row in visits]  # a web session with the same number

    cleaned = etl_session(warehouse, "cleanup", str(failed), "--yes", "--json", "--vars", WEB)

    assert cleaned.returncode == 0, cleaned.output
    outcome = json.loads(cleaned.stdout)
    assert [model["node_id"] for model in outcome["models"]] == ["model.etl_it.fct_events"]
    assert outcome["rows"] == 2
    assert web_visits(warehouse) == visits
    assert facts(warehouse) == [(ok, 1), (ok, 2)]


def recreate_sessions_tables(wh: Warehouse) -> None:
    """What a user does by dropping the tables (or by changing the schema/table vars)."""
    cascade = " cascade" if wh.name == "postgres" else ""  # the package's history view
    wh.execute("drop table analytics.etl_session_results" + cascade)
    wh.execute("drop table analytics.etl_sessions" + cascade)
    if wh.name == "duckdb":
        wh.execute("drop sequence if exists analytics.etl_sessions_seq")


def test_cleanup_after_the_sessions_tables_were_recreated_keeps_older_rows(
    warehouse: Warehouse,
) -> None:
    warehouse.insert_events(EVENTS)
    may = warehouse.etl_run("--period", "2023-05", "-q")
    assert may.returncode == 0, may.output
    may_rows = facts(warehouse)
    [(old,)] = warehouse.query(sessions_sql("session_id"))

    # A new failed session of another period: ids may restart at 1 (the older load's id).
    recreate_sessions_tables(warehouse)
    june = warehouse.etl_run("--period", "2023-06", "-q", "--vars", "{with_failure: true}")
    assert june.returncode == 1, june.output
    [(new,)] = warehouse.query(sessions_sql("session_id"))
    cleaned = etl_session(warehouse, "cleanup", str(new), "--yes", "--json")
    assert cleaned.returncode == 0, cleaned.output
    assert json.loads(cleaned.stdout)["rows"] == 2
    assert facts(warehouse) == may_rows

    # A new failed session of the same period that never wrote fct_events.
    recreate_sessions_tables(warehouse)
    failing = "{with_failure: true}"
    again = warehouse.etl_run("--period", "2023-05", "-q", "-s", "broken", "--vars", failing)
    assert again.returncode == 1, again.output
    [(other,)] = warehouse.query(sessions_sql("session_id"))
    cleaned = etl_session(warehouse, "cleanup", str(other), "--yes", "--json")
    assert cleaned.returncode == 0, cleaned.output
    outcome = json.loads(cleaned.stdout)
    assert (outcome["rows"], outcome["models"]) == (0, [])
    assert outcome["skipped"] == [
        {
            "node_id": "model.etl_it.fct_events",
            "relation": "analytics.fct_events",
            "reason": "the session did not write to it (not run)",
        }
    ]
    assert facts(warehouse) == may_rows
    assert old in {row[0] for row in may_rows}


def test_a_killed_load_is_swept_and_cleaned_up_in_one_command(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    may = wh.etl_run("--period", "2023-05", "-q")
    assert may.returncode == 0, may.output
    may_rows = facts(wh)
    command = wh.etl_run_command("--period", "2023-06", "--vars", SLOW, "-s", "fct_events", "slow")
    kill(wh, start_load(wh, command, after="OK created sql incremental model analytics.fct_events"))
    [killed] = running(wh)
    assert [row[1] for row in facts(wh) if row[0] == killed] == [3, 4]  # committed before

    cleaned = etl_session(wh, "cleanup", str(killed), "--yes")

    # No per-model results (it was killed): every stamping model's rows of its period go.
    assert cleaned.returncode == 0, cleaned.output
    assert cleaned.stderr.startswith(
        f"closed running session {killed} as abandoned: its owner is gone\n"
    )
    assert cleaned.stdout.splitlines()[:2] == [
        f"session {killed} (error): deleted 2 rows",
        "  analytics.fct_events  2 rows",
    ]
    assert facts(wh) == may_rows
    assert session_row(wh, killed)[2] == "abandoned"


def test_cleanup_bounds_a_date_column_by_the_local_dates_of_the_sessions_zone(
    postgres_warehouse: Warehouse,
) -> None:
    wh = postgres_warehouse
    wh.insert_events([*EVENTS, (5, "2023-06-01 12:00:00", 5.0)])  # June 1st, 08:00 in New York
    daily = "{with_operator_daily: true}"
    zone = ("--timezone", "America/New_York")
    may = wh.etl_run("--period", "2023-05", *zone, "-q", "--vars", daily)
    failing = "{with_operator_daily: true, with_failure: true}"
    june = wh.etl_run("--period", "2023-06", *zone, "-q", "--vars", failing)
    assert (may.returncode, june.returncode) == (0, 1), may.output + june.output
    ok, failed = (row[0] for row in wh.query(sessions_sql("session_id")))
    # As if ids had restarted: May's rows carry the failed session's number too.
    for table in ("fct_events", "operator_daily_events"):
        wh.execute(f"update analytics.{table} set session_id = {failed} where session_id = {ok}")
    days = "select session_id, day, id from analytics.operator_daily_events order by id"
    before = wh.query(days)
    assert [row[0] for row in before] == [failed] * 5

    cleaned = etl_session(wh, "cleanup", str(failed), "--yes", "--json", "--vars", daily)

    assert cleaned.returncode == 0, cleaned.output
    outcome = json.loads(cleaned.stdout)
    assert {m["relation"]: m["rows"] for m in outcome["models"]} == {
        "analytics.fct_events": 3,
        "analytics.operator_daily_events": 3,
    }
    assert wh.query(days) == before[:2]
    assert [row[1] for row in facts(wh)] == [1, 2]


# --- dates and zones --------------------------------------------------------------------------


def test_list_takes_the_first_and_the_last_day_of_the_calendar(
    duckdb_warehouse: Warehouse,
) -> None:
    ok, failed = load_may_then_fail_june(duckdb_warehouse)

    found = etl_session(
        duckdb_warehouse, "list", "--json", "--since", "0001-01-01", "--until", "9999-12-31"
    )

    assert found.returncode == 0, found.output
    assert [row["session_id"] for row in json.loads(found.stdout)] == [failed, ok]


def test_list_and_show_give_the_period_in_the_zone_it_was_stated_in(
    duckdb_warehouse: Warehouse,
) -> None:
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    run = wh.etl_run("--period", "2023-05", "--timezone", "America/New_York", "-q")
    assert run.returncode == 0, run.output
    [(loaded,)] = wh.query(sessions_sql("session_id"))
    local = "2023-05-01T00:00:00-04:00 → 2023-06-01T00:00:00-04:00"
    utc = "2023-05-01T04:00:00Z → 2023-06-01T04:00:00Z"

    stated = etl_session(wh, "list")
    in_utc = etl_session(wh, "list", "--utc")
    kolkata = etl_session(wh, "list", "--timezone", "Asia/Kolkata")
    shown = etl_session(wh, "show", str(loaded))
    as_json = etl_session(wh, "list", "--json")

    assert [r.returncode for r in (stated, in_utc, kolkata, shown, as_json)] == [0] * 5
    assert f"  etl_it → duckdb  {local}  success " in stated.stdout
    assert f"  etl_it → duckdb  {utc}  success " in in_utc.stdout
    assert "2023-05-01T09:30:00+05:30 → 2023-06-01T09:30:00+05:30" in kolkata.stdout
    fields = dict(line.strip().split(None, 1) for line in shown.stdout.splitlines()[1:])
    assert (fields["period_start"], fields["period_end"], fields["period_timezone"]) == (
        "2023-05-01T00:00:00-04:00", "2023-06-01T00:00:00-04:00", "America/New_York"
    )  # fmt: skip
    [session] = json.loads(as_json.stdout)
    assert (session["period_start"], session["period_end"], session["period_timezone"]) == (
        "2023-05-01T04:00:00Z", "2023-06-01T04:00:00Z", "America/New_York"
    )  # fmt: skip


def test_the_operators_commands_leave_the_last_loads_dbt_artifacts_alone(
    duckdb_warehouse: Warehouse,
) -> None:
    """run_results.json and manifest.json describe the last load, for the tools that read them
    (dagster-dbt, state selection, artifact uploads): an etl-session command reads through
    `dbt run-operation`, which would otherwise write its own over them. cleanup parses the
    project on purpose (it must know today's models), so it writes manifest.json as
    `dbt parse` does, and only that."""
    wh = duckdb_warehouse
    wh.insert_events(EVENTS)
    may = wh.etl_run("--period", "2023-05", "-q")
    assert may.returncode == 0, may.output
    target = wh.workdir / "target"
    names = ("run_results.json", "manifest.json")
    artifacts = {name: (target / name).read_bytes() for name in names}
    built = {r["unique_id"] for r in json.loads(artifacts["run_results.json"])["results"]}
    assert "model.etl_it.fct_events" in built

    for command, code, kept in (
        (["list"], 0, names),
        (["show", "1"], 0, names),
        (["coverage", "--json"], 0, names),
        (["cleanup", "1", "--dry-run"], 2, ("run_results.json",)),  # a good session: refused
    ):
        done = etl_session(wh, *command)
        assert done.returncode == code, done.output
        changed = [n for n in kept if (target / n).read_bytes() != artifacts[n]]
        assert changed == [], f"etl-session {' '.join(command)} rewrote {changed}"

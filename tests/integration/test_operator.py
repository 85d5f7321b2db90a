"""etl-session end to end: a real process, real dbt, a real DuckDB file and a real Postgres."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

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
    ok, failed = load_may_then_fail_june(warehouse)
    today = datetime.now(timezone.utc).date()

    table = etl_session(warehouse, "list")
    everything = etl_session(warehouse, "list", "--json")
    errors = etl_session(
        warehouse, "list", "--json", "--status", "error", "--session-target", warehouse.name,
        "--since", today.isoformat(), "--until", today.isoformat(),
    )  # fmt: skip
    newest = etl_session(warehouse, "list", "--json", "--limit", "1")
    before = etl_session(warehouse, "list", "--until", (today - timedelta(days=1)).isoformat())

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
        "cleanup",
    }  # fmt: skip
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
    fields = dict(line.strip().split(None, 1) for line in lines[1:20])
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
    assert lines[20] == f"results ({nodes_ok + 2} nodes)"
    broken = next(line for line in lines[21:] if "model.etl_it.broken " in line)
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

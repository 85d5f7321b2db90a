"""etl-run end to end: a real process, real dbt, a real DuckDB file and a real Postgres."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from warehouse import INTEGRATION_PROJECT, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-04-30 23:59:59", 1.0),
    (2, "2023-05-01 00:00:00", 2.0),
    (3, "2023-05-20 10:00:00", 3.0),
    (4, "2023-06-01 00:00:00", 4.0),
]
SUMMARY = re.compile(
    r"^session (\d+) (success|error) · (\S+) → (\S+) · (\d+) ok, (\d+) error, (\d+) skipped"
    r" · [\d.]+ s$"
)


def session_rows(wh: Warehouse) -> list[tuple]:
    if not wh.table_exists("analytics", "etl_sessions"):
        return []
    return wh.query(
        "select session_id, status, message, source, target from analytics.etl_sessions"
        " order by session_id"
    )


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def fact_ids(wh: Warehouse) -> list[int]:
    return [row[0] for row in wh.query("select id from analytics.fct_events order by id")]


def summary_of(output: str) -> re.Match[str]:
    lines = [line for line in output.splitlines() if line.startswith(("session ", "no session "))]
    assert lines, output
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    return match


def test_a_successful_load_exits_0_and_prints_the_summary(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.etl_run("--period", "[2023-05-01, 2023-05-31]")

    assert run.returncode == 0, run.output
    summary = summary_of(run.stdout)
    assert summary.group(2, 3, 4) == ("success", "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
    assert summary.group(6, 7) == ("0", "0")
    [session] = session_rows(warehouse)
    assert session[:2] == (int(summary.group(1)), "success")
    assert session[3:] == ("etl_it", warehouse.name)
    assert fact_ids(warehouse) == [2, 3]
    assert "Traceback" not in run.output


def test_source_label_and_json_outcome(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.etl_run("--period", "2023-05", "--source", "crm", "--json")

    assert run.returncode == 0, run.output
    payload = json.loads(run.stdout)
    assert payload["status"] == "success"
    assert payload["exit_code"] == 0
    assert (payload["period_start"], payload["period_end"]) == (
        "2023-05-01T00:00:00Z",
        "2023-06-01T00:00:00Z",
    )
    [session] = session_rows(warehouse)
    assert payload["session_id"] == session[0]
    assert session[3] == "crm"
    nodes = {node["node_id"]: node for node in payload["nodes"]}
    fact = nodes["model.etl_it.fct_events"]
    assert fact["status"] == "success"
    assert set(fact) == {
        "node_id", "resource_type", "status", "message", "execution_time", "rows_affected"
    }  # fmt: skip
    if warehouse.name == "postgres":  # DuckDB does not report rows affected
        assert fact["rows_affected"] == 2


def test_a_failing_model_exits_1_and_closes_the_session_as_error(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.etl_run("--period", "2023-05", "--vars", "{with_failure: true}")

    assert run.returncode == 1, run.output
    assert summary_of(run.stdout).group(2, 6, 7) == ("error", "1", "1")
    assert "model.etl_it.broken" in run.stderr
    [session] = session_rows(warehouse)
    assert session[1] == "error"
    assert "model.etl_it.broken" in session[2]


def test_a_compile_error_exits_2_and_records_the_attempt(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "broken_project")
    (project / "models" / "typo.sql").write_text("select {{ oops( }}\n")
    install_packages(project, warehouse.env())
    broken = Warehouse(warehouse.name, warehouse.workdir, warehouse.pg, project_dir=project)

    run = broken.etl_run("--period", "2023-05")

    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output
    [session] = session_rows(warehouse)
    assert session[1] == "error"
    assert "Compilation Error in model typo" in session[2]


def test_an_unreachable_warehouse_exits_2_with_one_line_and_no_traceback(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    unreachable = {
        "ETL_IT_PG_PORT": "1",  # nothing listens on port 1
        "ETL_IT_DUCKDB_PATH": str(tmp_path / "no" / "such" / "folder" / "x.duckdb"),
    }

    run = warehouse.etl_run("--period", "2023-05", "-q", env=unreachable)

    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output
    assert re.search(
        r"^no session error · 2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z · [\d.]+ s$",
        run.stdout,
        re.MULTILINE,
    ), run.stdout
    message_lines = [line for line in run.stderr.splitlines() if line.startswith("  ")]
    assert len(message_lines) == 1
    assert session_rows(warehouse) == []


def test_ctrl_c_exits_130_and_closes_the_session_as_interrupted(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    command = warehouse.etl_run_command(
        "--period", "2023-05", "--vars", "{with_slow: true}", "--select", "slow"
    )
    proc = subprocess.Popen(
        command,
        cwd=warehouse.workdir,
        env=warehouse.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "START sql table model" in line and "slow" in line:
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest

    assert proc.returncode == 130, output
    [session] = session_rows(warehouse)
    assert session[1:3] == ("error", "interrupted")
    assert summary_of(output).group(2) == "error"


def test_without_a_period_it_continues_from_the_last_success(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    first = warehouse.etl_run("--period", "[2023-05-01, 2023-05-31]")
    assert first.returncode == 0, first.output

    before = utc_today()
    run = warehouse.etl_run("--json")
    after = utc_today()

    assert run.returncode == 0, run.output
    [chunk] = json.loads(run.stdout)["chunks"]
    assert chunk["period_start"] == "2023-06-01T00:00:00Z"
    # The start of today, UTC: of the day it ran on (UTC midnight may pass while it runs).
    assert chunk["period_end"] in {f"{day.isoformat()}T00:00:00Z" for day in (before, after)}
    assert chunk["status"] == "success"
    assert fact_ids(warehouse) == [2, 3, 4]

    again = warehouse.etl_run()
    later = utc_today()

    assert again.returncode == 0, again.output
    if again.stdout.startswith("data is up to date: loaded up to "):
        assert len(session_rows(warehouse)) == 2
    else:  # only once UTC midnight passed after the first load ended its period: the new day
        assert later > date.fromisoformat(chunk["period_end"][:10]), again.output
        assert [row[1] for row in session_rows(warehouse)] == ["success"] * 3


def test_without_a_period_or_an_earlier_session_it_exits_2_saying_how(
    warehouse: Warehouse,
) -> None:
    run = warehouse.etl_run()

    assert run.returncode == 2, run.output
    assert run.stderr.strip() == (
        "Error: no earlier successful session for etl_it: give the first period, "
        'e.g. etl-run --period "[2023-05-01, 2023-05-31]"'
    )
    assert session_rows(warehouse) == []


def test_dry_run_touches_nothing(warehouse: Warehouse) -> None:
    run = warehouse.etl_run("--period", "2023-05", "--dry-run")

    assert run.returncode == 0, run.output
    assert "would run dbt build" in run.stdout
    assert session_rows(warehouse) == []
    assert not warehouse.table_exists("analytics", "fct_events")


def test_an_unknown_target_exits_2_and_touches_nothing(warehouse: Warehouse) -> None:
    run = warehouse.etl_run("--period", "2023-05", "--target", "nope", "-q")

    assert run.returncode == 2, run.output
    assert "does not have a target named 'nope'" in run.output
    assert "Traceback" not in run.output
    assert session_rows(warehouse) == []


def test_the_python_api_returns_the_session_result(
    postgres_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etl_session

    wh = postgres_warehouse
    wh.insert_events(EVENTS)
    for key, value in wh.env().items():
        monkeypatch.setenv(key, value)

    result = etl_session.run(
        period="[2023-05-01, 2023-05-31]",
        project_dir=str(INTEGRATION_PROJECT),
        target="postgres",
        source="api",
        quiet=True,
    )

    assert (result.status, result.exit_code, result.ok) == ("success", 0, True)
    assert str(result.period) == "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z"
    [session] = session_rows(wh)
    assert (result.session_id, "success", "api") == (session[0], session[1], session[3])
    fact = next(node for node in result.nodes if node.node_id == "model.etl_it.fct_events")
    assert (fact.status, fact.rows_affected) == ("success", 2)
    assert result.summary().startswith(f"session {result.session_id} success · ")


def test_the_python_api_raises_for_bad_input_before_anything_runs(
    postgres_warehouse: Warehouse,
) -> None:
    import etl_session

    with pytest.raises(etl_session.PeriodError, match="is before its start"):
        etl_session.run(period="[2023-05-02, 2023-05-01]", project_dir=str(INTEGRATION_PROJECT))
    assert session_rows(postgres_warehouse) == []

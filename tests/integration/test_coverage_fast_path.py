"""etl-session coverage's fast path (etl_session._coverage_plan), for real: the statements dbt
compiled for the last coverage run again without dbt, and dbt's path takes over whenever
anything it resolved may have changed.

Whether a process imported dbt is read from the process itself (`python -X importtime`), and
every answer of the fast path is compared with the answer of dbt's path over the same data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_coverage_cli import load_three_months

from warehouse import BIN, INTEGRATION_PROJECT, DbtRun, Warehouse, copy_project, install_packages

pytestmark = pytest.mark.integration


def coverage(wh: Warehouse, cache: Path | str, *args: str, **env: str) -> tuple[DbtRun, bool]:
    """etl-session coverage in a new process; its run and whether it imported dbt."""
    command = [
        sys.executable,
        "-X",
        "importtime",
        str(BIN / "etl-session"),
        "coverage",
        "--project-dir",
        str(wh.project_dir),
        *args,
    ]
    overrides = {"ETL_SESSION_COVERAGE_CACHE": str(cache), **env}
    proc = subprocess.run(
        command, cwd=wh.workdir, env=wh.env(overrides), capture_output=True, text=True, timeout=600
    )
    lines = proc.stderr.splitlines()
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")
    ]
    stderr = "\n".join(line for line in lines if not line.startswith("import time:"))
    assert "json" in imported, "no import trace: the check below could not fail"
    run = DbtRun(command, proc.returncode, proc.stdout, stderr)
    return run, any(name == "dbt" or name.startswith(("dbt.", "dbt_")) for name in imported)


def segments(run: DbtRun) -> list[tuple[str, str, str, int | None]]:
    assert run.returncode == 0, run.output
    [model] = json.loads(run.stdout)["models"]
    return [
        (s["start"][:10], s["end"][:10], s["state"], s["session_id"]) for s in model["segments"]
    ]


def test_a_second_coverage_reads_without_dbt_and_answers_as_dbt_does(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = load_three_months(warehouse)
    cache = tmp_path / "plans"
    until = ("--until", "2023-05-15")

    by_dbt, imported = coverage(wh, "off", *until, "--json")
    assert imported and by_dbt.returncode == 0, by_dbt.output
    first, imported = coverage(wh, cache, *until, "--json")
    assert imported, "no plan yet: dbt's path"
    assert len(list(cache.glob("*.json"))) == 1, "the first run keeps a plan"
    fast, imported = coverage(wh, cache, *until, "--json")
    assert not imported, fast.output
    assert fast.stdout == first.stdout == by_dbt.stdout
    assert segments(fast)[:3] == [
        ("2023-01-01", "2023-02-01", "loaded", 1),
        ("2023-02-01", "2023-03-01", "failed", 2),
        ("2023-03-01", "2023-04-01", "loaded", 3),
    ]

    # The calendar a person reads, too.
    calendar, imported = coverage(wh, cache, *until)
    assert not imported
    assert calendar.stdout == coverage(wh, "off", *until)[0].stdout

    # The data is read live: a new load shows at once, without dbt.
    april = wh.etl_run("--period", "2023-04", "-s", "fct_events", "-q")
    assert april.returncode == 0, april.output
    fast, imported = coverage(wh, cache, *until, "--json")
    assert not imported
    assert segments(fast)[3] == ("2023-04-01", "2023-05-01", "loaded", 4)
    assert fast.stdout == coverage(wh, "off", *until, "--json")[0].stdout


def test_a_live_owner_keeps_the_fast_path_and_a_dead_one_hands_over_to_dbt_which_sweeps(
    postgres_warehouse: Warehouse, tmp_path: Path
) -> None:
    """A running session whose owner holds its lock shows as running, read without dbt; once
    the owner is gone, dbt's path closes it as abandoned (a write the fast path never does)."""
    wh = load_three_months(postgres_warehouse)
    cache = tmp_path / "plans"
    until = ("--until", "2023-05-15", "--json")
    # The server trusts local logins, so any password connects: one nobody could mistake.
    secret = {"ETL_IT_PG_PASSWORD": "pw-that-must-never-be-on-disk"}
    coverage(wh, cache, *until, **secret)  # keeps the plan
    [kept] = cache.glob("*.json")
    assert secret["ETL_IT_PG_PASSWORD"] not in kept.read_text()
    plan = json.loads(kept.read_text())
    assert plan["password"] == {"env": "ETL_IT_PG_PASSWORD", "default": ""}
    assert "ETL_IT_PG_PASSWORD" not in plan["env_names"]
    watched = set(plan["files"])
    assert {
        str(wh.project_dir / ".dbtignore"),  # dbt skips what it names
        str(wh.workdir / "profiles.yml"),  # dbt's default profiles.yml, when there is one
        os.path.expanduser("~/.dbt/profiles.yml"),  # ... else this one
    } <= watched
    assert plan["listings"] == [str(wh.project_dir / "dbt_packages")]
    assert wh.pg is not None
    owner = wh.pg.connect()
    try:
        owner.autocommit = True
        with owner.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(hashtextextended('held-by-a-test', 0))")
        wh.execute(
            "insert into analytics.etl_sessions (session_id, source, target, period_start,"
            " period_end, run_id, started, status, liveness) values (900, 'etl_it', 'postgres',"
            " '2023-04-01 00:00+00', '2023-05-01 00:00+00', 'held-by-a-test', now(), 'running',"
            " 'lock')"
        )
        alive, imported = coverage(wh, cache, *until, **secret)
        assert not imported, alive.output
        assert segments(alive)[3] == ("2023-04-01", "2023-05-01", "running", 900)
    finally:
        owner.close()  # the owner is gone

    swept, imported = coverage(wh, cache, *until)
    assert imported, "a dead owner: dbt's path"
    assert "closed running session 900 as abandoned" in swept.stderr
    assert segments(swept)[3] == ("2023-04-01", "2023-05-01", "failed", 900)
    [(status, closed_by)] = wh.query(
        "select status, closed_by from analytics.etl_sessions where session_id = 900"
    )
    assert (status, closed_by) == ("error", "abandoned")
    after, imported = coverage(wh, cache, *until)
    assert not imported and after.stdout == coverage(wh, "off", *until)[0].stdout


def test_anything_dbt_resolved_that_changes_hands_over_to_dbt(tmp_path: Path) -> None:
    """A hostile user's changes, each between two coverage runs: a project file, a variable the
    profile reads, a dead running session, the file held by a load. After each, the answer is
    dbt's (and right), never the plan's."""
    project = copy_project(INTEGRATION_PROJECT, tmp_path / "project")
    wh = Warehouse(name="duckdb", workdir=tmp_path / "work", project_dir=project)
    wh.workdir.mkdir()
    install_packages(project, wh.env())
    wh.reset()
    load_three_months(wh)
    cache = tmp_path / "plans"
    until = ("--until", "2023-04-15", "--json")
    coverage(wh, cache, *until)
    assert not coverage(wh, cache, *until)[1]

    # 1. A project file: the model's beginning moves a month earlier. (Its time is set back a
    # minute, as an edit made a while ago: dbt's path then keeps a plan at once. A file changed
    # in the seconds before dbt read it keeps none: tests/unit/test_coverage_plan.py.)
    project_file = project / "dbt_project.yml"
    project_file.write_text(
        project_file.read_text().replace("vars:\n", "vars:\n  fct_events_begin: '2022-12-01'\n")
    )
    os.utime(project_file, (time.time() - 60, time.time() - 60))
    edited, imported = coverage(wh, cache, *until)
    assert imported
    assert segments(edited)[0] == ("2022-12-01", "2023-01-01", "missing", None)
    again, imported = coverage(wh, cache, *until)
    assert not imported and again.stdout == edited.stdout

    # 2. A variable the profile reads: another DuckDB file, with a load of its own. The plan
    # kept for it must never answer for this one, nor this one's for it.
    other = {"ETL_IT_DUCKDB_PATH": str(tmp_path / "other.duckdb")}
    import duckdb

    with duckdb.connect(other["ETL_IT_DUCKDB_PATH"]) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.events (id integer, occurred_at timestamp, amount double)"
        )
        connection.execute("insert into raw.events values (1, '2023-01-10', 1.0)")
    january = wh.etl_run("--period", "2023-01", "-s", "fct_events", "-q", env=other)
    assert january.returncode == 0, january.output
    elsewhere, imported = coverage(wh, cache, *until, **other)
    assert imported
    assert segments(elsewhere)[1:3] == [
        ("2023-01-01", "2023-02-01", "loaded", 1),
        ("2023-02-01", "2023-04-15", "missing", None),
    ]
    assert coverage(wh, cache, *until, **other) == (elsewhere, False)
    back, imported = coverage(wh, cache, *until)
    assert imported and back.stdout == again.stdout
    assert coverage(wh, cache, *until) == (back, False)

    # 3. A running session whose owner is gone (DuckDB: nobody holds the file).
    wh.execute(
        "insert into analytics.etl_sessions (session_id, source, target, period_start,"
        " period_end, run_id, started, status, liveness) values (900, 'etl_it', 'duckdb',"
        " '2023-04-01 00:00+00', '2023-05-01 00:00+00', 'killed-load', now(), 'running', 'file')"
    )
    swept, imported = coverage(wh, cache, *until)
    assert imported
    assert "closed running session 900 as abandoned" in swept.stderr
    assert segments(swept)[-1] == ("2023-04-01", "2023-05-01", "failed", 900)

    # 4. The file held by a load: the fast path cannot open it, and says what dbt's path says.
    holder = duckdb.connect(str(wh.duckdb_path))
    try:
        held, imported = coverage(wh, cache, *until)
        by_dbt, _ = coverage(wh, "off", *until)
    finally:
        holder.close()
    assert imported
    assert held.returncode == by_dbt.returncode == 2, held.output
    assert held.stderr.splitlines()[-1] == by_dbt.stderr.splitlines()[-1]
    assert "lock" in held.stderr
    fast, imported = coverage(wh, cache, *until)
    assert not imported and segments(fast) == segments(swept)

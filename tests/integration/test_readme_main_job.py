"""The README's main job, exactly as written, on the bundled example (DuckDB, no server)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import REPO

# Both tests run etl-run in examples/shop itself (its target/ folder): one worker runs them.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("examples_shop")]


def test_the_readme_main_job_loads_may_into_the_example(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    etl_run = block.splitlines()[0].split(" && ", 1)[1]
    database = tmp_path / "shop.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "ETL_SESSION_"))}
    env["SHOP_DUCKDB_PATH"] = str(database)  # keep the repo's example folder clean
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # and the user's ~/.cache
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    proc = subprocess.run(
        shlex.split(etl_run), cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("session 1 success · 2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z · ")
    assert ", 0 error, 0 skipped · " in summary

    import duckdb

    conn = duckdb.connect(str(database), read_only=True)
    try:
        [(sessions, status)] = conn.execute(
            "select count(*), min(status) from analytics.etl_sessions"
        ).fetchall()
        [(orders, stamped, outside)] = conn.execute(
            "select count(*), count(distinct session_id),"
            " count(*) filter (where ordered_at < '2023-05-01' or ordered_at >= '2023-06-01')"
            " from analytics.fct_orders"
        ).fetchall()
        [(days,)] = conn.execute("select count(*) from analytics.agg_daily_revenue").fetchall()
        [(staged,)] = conn.execute("select count(*) from analytics.stg_orders").fetchall()
    finally:
        conn.close()
    assert (sessions, status) == (1, "success")
    assert orders > 0 and stamped == 1 and outside == 0
    assert days == 31  # the date-typed etl_period model: exactly May's days
    assert staged == 3000  # the staging view stays whole: the period lives in the period models
    # etl-run kept the templates dbt compiled (the next load reuses them): ~300 for this load.
    assert len(list((tmp_path / "cache" / "etl-session" / "jinja").glob("*.jinja"))) > 100


def _etl_run(args: list[str], database: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "ETL_SESSION_"))}
    env["SHOP_DUCKDB_PATH"] = str(database)
    # The loads of one test share their Jinja cache: the later ones run on compiled templates.
    env["XDG_CACHE_HOME"] = str(database.parent / "cache")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = ["etl-run", "--project-dir", "examples/shop", "-q", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_the_example_is_exact_in_the_zone_the_period_is_stated_in(tmp_path: Path) -> None:
    """April and May in Europe/Berlin: whole local days, none partial, none outside the period."""
    import csv
    from collections import Counter
    from datetime import datetime
    from zoneinfo import ZoneInfo

    database = tmp_path / "shop.duckdb"
    for month in ("2023-04", "2023-05"):
        proc = _etl_run(["--period", month, "--timezone", "Europe/Berlin"], database)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    berlin, utc = ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")
    with (REPO / "examples" / "shop" / "seeds" / "raw_orders.csv").open() as f:
        local_days = [
            datetime.fromisoformat(row["ordered_at"]).replace(tzinfo=utc).astimezone(berlin).date()
            for row in csv.DictReader(f)
        ]
    expected = Counter(d for d in local_days if (d.year, d.month) in {(2023, 4), (2023, 5)})

    import duckdb

    conn = duckdb.connect(str(database), read_only=True)
    try:
        days = dict(
            conn.execute("select order_date, orders from analytics.agg_daily_revenue").fetchall()
        )
        [(orders,)] = conn.execute("select count(*) from analytics.fct_orders").fetchall()
        by_session = conn.execute(
            "select session_id, min(order_date), max(order_date), count(*)"
            " from analytics.agg_daily_revenue group by 1 order by 1"
        ).fetchall()
        [(staged,)] = conn.execute("select count(*) from analytics.stg_orders").fetchall()
    finally:
        conn.close()
    assert days == dict(expected)
    assert orders == sum(expected.values())
    assert [(row[1].isoformat(), row[2].isoformat(), row[3]) for row in by_session] == [
        ("2023-04-01", "2023-04-30", 30),
        ("2023-05-01", "2023-05-31", 31),
    ]
    assert staged == len(local_days)  # the staging view holds every order, not a period

"""The README's main job, exactly as written, on the bundled example (DuckDB, no server)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import REPO

pytestmark = pytest.mark.integration


def test_the_readme_main_job_loads_may_into_the_example(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    etl_run = block.splitlines()[0].split(" && ", 1)[1]
    database = tmp_path / "shop.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "ETL_SESSION_"))}
    env["SHOP_DUCKDB_PATH"] = str(database)  # keep the repo's example folder clean
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
    finally:
        conn.close()
    assert (sessions, status) == (1, "success")
    assert orders > 0 and stamped == 1 and outside == 0
    assert days == 31  # the date-typed etl_period model: exactly May's days

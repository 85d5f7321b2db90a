"""etl-run against plain `dbt build` on the bundled example, side by side in one run.

    python bench/bench_runner.py [--rounds 6]

Each round loads a new month with both, alternating which goes first, on the same DuckDB file:
`etl-run --period 2023-MM` against `dbt build` given the same period through the package's
environment variables (same project, same hooks: the difference is what etl-run adds).
Also times `etl-run --help`, which must not import dbt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "shop"
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    rounds = parser.parse_args().rounds

    work = Path(tempfile.mkdtemp(prefix="etl-bench-"))
    project = work / "shop"
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb*"),
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "ETL_SESSION_"))}
    env.update(
        SHOP_DUCKDB_PATH=str(work / "shop.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    etl_run = [str(BIN / "etl-run"), "--project-dir", str(project), "-q"]
    dbt_build = [
        str(BIN / "dbt"), "--quiet", "build", "--project-dir", str(project),
        "--profiles-dir", str(project),
    ]  # fmt: skip

    # Warm up both: deps, the first full parse, the tables.
    timed([*etl_run, "--period", "2022-12"], env)
    timed(dbt_build, {**env, "ETL_SESSION_PERIOD_START": "2022-11-01T00:00:00Z",
                      "ETL_SESSION_PERIOD_END": "2022-12-01T00:00:00Z"})  # fmt: skip

    ours: list[float] = []
    theirs: list[float] = []
    for index in range(rounds):
        month = index % 12 + 1
        end = f"2023-{month + 1:02d}-01" if month < 12 else "2024-01-01"
        period_env = {
            **env,
            "ETL_SESSION_PERIOD_START": f"2023-{month:02d}-01T00:00:00Z",
            "ETL_SESSION_PERIOD_END": f"{end}T00:00:00Z",
        }
        ours_cmd = [*etl_run, "--period", f"2023-{month:02d}"]
        pair = [(ours, ours_cmd, env), (theirs, dbt_build, period_env)]
        for times, command, command_env in pair if index % 2 == 0 else reversed(pair):
            times.append(timed(command, command_env))

    helps = [timed([*etl_run[:1], "--help"], env) for _ in range(10)]
    print(f"rounds: {rounds} (a new month each round, order alternating)")
    print(f"etl-run    median {statistics.median(ours):.2f} s  runs {[round(t, 2) for t in ours]}")
    print(
        f"dbt build  median {statistics.median(theirs):.2f} s  runs {[round(t, 2) for t in theirs]}"
    )
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"ratio etl-run / dbt build (medians): {ratio:.3f}")
    print(f"etl-run --help median {statistics.median(helps) * 1000:.0f} ms over 10 runs")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The real orchestrators, each in a virtual environment of its own (never the test suite's):
`<repo>/.venv-orchestrators/<name>`, built on first use with `python -m venv` and the package's
extras installed from the registry (with uv when it installs, else pip), reused afterwards
while pyproject.toml is unchanged. Tests run scripts in them as subprocesses and check the
DuckDB files those leave behind with this suite's own duckdb."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from warehouse import REPO, copy_project

VENVS = REPO / ".venv-orchestrators"
#: The extras each environment installs (cosmos brings Airflow).
EXTRAS = {"airflow": "cosmos,duckdb", "dagster": "dagster,duckdb"}
SHOP = REPO / "examples" / "shop"
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def _fingerprint(extras: str) -> str:
    return hashlib.sha256((REPO / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


def _run(command: list[str], **kwargs: object) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )


def build_venv(name: str) -> Path:
    """The Python of the orchestrator environment `name`, built now if missing or stale."""
    extras = EXTRAS[name]
    VENVS.mkdir(exist_ok=True)
    (VENVS / ".gitignore").write_text("*\n")
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".built-for"
    with (VENVS / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text() == _fingerprint(extras) and python.exists():
            return python
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        target = f"{REPO}[{extras}]"
        try:
            _run([str(python), "-m", "pip", "install", "--quiet", "uv"])
            _run(
                [str(venv / "bin" / "uv"), "pip", "install", "--python", str(python), "-e", target]
            )
        except RuntimeError:
            _run([str(python), "-m", "pip", "install", "--quiet", "-e", target])
        marker.write_text(_fingerprint(extras))
        (venv / ".build-seconds").write_text(f"{time.monotonic() - started:.1f}\n")
    return python


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an orchestrator script: nothing of this suite's dbt or session."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ETL_SESSION_", "DBT_", "AIRFLOW", "DAGSTER", "VIRTUAL_ENV"))
    }
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.update(extra or {})
    return env


def shop_copy(destination: Path, python: Path, *, broken: bool = False) -> Path:
    """A copy of examples/shop that installs this repository's package, with dbt deps run by
    the orchestrator environment's dbt; `broken` adds a model that fails."""
    project = copy_project(SHOP, destination)
    for leftover in [*project.glob("*.duckdb*"), project / "package-lock.yml"]:
        leftover.unlink(missing_ok=True)
    if broken:
        (project / "models" / "marts" / "broken_orders.sql").write_text(
            "select * from {{ ref('stg_orders') }} join no_such_table_in_shop on true\n"
        )
    _run([str(python.parent / "dbt"), "deps"], cwd=project, env=clean_env())
    return project


def run_script(
    python: Path, script: str, *args: str, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    # As if the environment were activated: its dbt, airflow and dagster come first on PATH.
    path = f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        cwd=cwd,
        env=clean_env({**env, "PATH": path}),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def airflow_home(
    python: Path, root: Path, dag_file: Path, env: Mapping[str, str]
) -> dict[str, str]:
    """An Airflow home under `root` with its metadata database migrated and a DAG folder that
    holds `dag_file`; the environment that points Airflow at it (with `env` added)."""
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(dag_file, dags / dag_file.name)
    airflow_env = {
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **env,
    }
    _run([str(python.parent / "airflow"), "db", "migrate"], env=clean_env(airflow_env))
    return airflow_env


def airflow_runs(
    python: Path,
    root: Path,
    dag_file: Path,
    env: Mapping[str, str],
    scenarios: list[dict[str, object]],
) -> tuple[dict[str, dict[str, object]], str]:
    """Run the scenarios (each a DAG run with dag.test() and its own DuckDB file under `root`,
    `<name>.duckdb`) in one process; their results by name, and the whole output."""
    import json

    full_env = airflow_home(python, root, dag_file, env)
    given = [{**item, "duckdb": str(root / f"{item['name']}.duckdb")} for item in scenarios]
    proc = run_script(
        python, "run_airflow.py", str(root / "dags" / dag_file.name), json.dumps(given),
        env=full_env, cwd=root,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    results = [
        json.loads(line[len("RESULT ") :])
        for line in proc.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    if proc.returncode != 0 or len(results) != len(scenarios):
        raise AssertionError(output[-6000:])
    return {
        str(item["name"]): result for item, result in zip(scenarios, results, strict=True)
    }, output

"""`etl-session open` / `close` for sessions many dbt invocations share, and the Python API's
input checks: help, bad input (one line, exit 2, nothing written) and import lightness.
No warehouse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import etl_session
from etl_session.operator_cli import cli
from etl_session.shared import SharedSession


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A dbt project folder with its own profiles.yml (never connected to here)."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\nconfig-version: 2\n")
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n"
    )
    return tmp_path


def test_open_and_close_have_help_for_every_option() -> None:
    for name in ("open", "close"):
        command = cli.commands[name]
        assert command.help
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"{name} {param.opts} has no help text"
    text = " ".join(invoke("open", "--help").output.split())
    assert "joins it instead of opening its own" in text
    assert "liveness 'external'" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2023-02-30"], "Error: "),
        (["--period", "[2023-05-31, 2023-05-01]"], "Error: period end 2023-05-01"),
        (["--period", "2023-05", "--timezone", "Nowhere/City"], "Error: "),
        (["--period", "2023-05", "--run-id", ""], "Error: a run id is 1 to 255 printable"),
        (["--period", "2023-05", "--run-id", "a\tb"], "Error: a run id is 1 to 255 printable"),
        (["--period", "2023-05", "--run-id", "x" * 256], "Error: a run id is 1 to 255 printable"),
        (["--period", "2023-05", "--source", " "], "Error: --source must be non-empty text"),
    ],
)
def test_bad_input_to_open_is_one_line_and_exit_2(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke("open", *args, "--project-dir", str(project))
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message), result.output
    assert result.output.count("\n") == 1
    assert not (project / "x.duckdb").exists()


def test_open_needs_a_period(project: Path) -> None:
    result = invoke("open", "--project-dir", str(project))
    assert result.exit_code == 2
    assert "Missing option '--period'" in result.output


def test_close_refuses_a_bad_status_and_a_blank_run_id(project: Path) -> None:
    bad_status = invoke("close", "x", "--status", "done", "--project-dir", str(project))
    blank = invoke("close", " x", "--project-dir", str(project))
    assert bad_status.exit_code == 2
    assert "'done' is not one of 'success', 'error'" in bad_status.output
    assert blank.exit_code == 2
    assert blank.output.startswith("Error: a run id is 1 to 255 printable characters")


def test_a_shared_session_round_trips_through_json() -> None:
    data = {
        "session_id": 7,
        "run_id": "airflow:shop:manual__2023-06-01",
        "period_start": "2023-05-01T04:00:00Z",
        "period_end": "2023-06-01T04:00:00Z",
        "period_timezone": "America/New_York",
        "source": "shop",
    }
    session = SharedSession.from_dict(data)
    assert SharedSession.from_dict(session.as_dict()) == session
    assert session.env() == {
        "ETL_SESSION_RUN_ID": "airflow:shop:manual__2023-06-01",
        "ETL_SESSION_PERIOD_START": "2023-05-01T04:00:00Z",
        "ETL_SESSION_PERIOD_END": "2023-06-01T04:00:00Z",
        "ETL_SESSION_PERIOD_TIMEZONE": "America/New_York",
        "ETL_SESSION_SOURCE": "shop",
    }
    assert session.dbt_vars()["etl_period_start"] == "2023-05-01T04:00:00Z"
    with pytest.raises(etl_session.UsageError, match=r"^not a shared session: "):
        SharedSession.from_dict({"session_id": 7})


def test_the_python_api_checks_its_input_before_anything_runs(project: Path) -> None:
    with pytest.raises(etl_session.UsageError, match=r"^period must be text, not int$"):
        etl_session.open_session(5, project_dir=project)  # type: ignore[arg-type]
    with pytest.raises(etl_session.UsageError, match=r"^close_session takes a session, a run id"):
        etl_session.close_session(1.5, project_dir=project)  # type: ignore[arg-type]
    with pytest.raises(etl_session.UsageError, match=r"^a run id is 1 to 255"):
        etl_session.run("2023-05", project_dir=project, run_id="")
    assert not (project / "x.duckdb").exists()


def test_importing_etl_session_imports_no_orchestrator_and_no_dbt() -> None:
    code = (
        "import sys, etl_session, etl_session.shared; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'airflow', 'dagster', 'dagster_dbt', 'cosmos', 'dbt', 'click'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

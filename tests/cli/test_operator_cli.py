"""etl-session's command line: help, period checks, messages and exit codes. No warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from etl_session.operator_cli import cli

SUBCOMMANDS = ("list", "show", "cleanup", "period")
DBT_OPTIONS = ("--project-dir", "--profiles-dir", "--target", "--vars", "--json", "--help")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A dbt project folder with its own profiles.yml (never connected to here)."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\nconfig-version: 2\n")
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n"
    )
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


# --- help -------------------------------------------------------------------------------------


def test_every_subcommand_and_every_option_has_help_text() -> None:
    assert isinstance(cli, click.Group)
    assert sorted(cli.commands) == sorted(SUBCOMMANDS)
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts} has no help text"


def test_the_group_help_lists_the_subcommands_and_the_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in result.output
    assert "2 usage, configuration or connection error (nothing changed)" in " ".join(
        result.output.split()
    )
    assert invoke("-h").output == result.output


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [
        ("list", (*DBT_OPTIONS, "--status", "--session-target", "--since", "--until", "--limit")),
        ("show", DBT_OPTIONS),
        ("cleanup", (*DBT_OPTIONS, "--dry-run", "--yes")),
        ("period", ("--timezone", "--project-dir", "--json", "--help")),
    ],
)
def test_help_of_each_subcommand_shows_its_options(
    subcommand: str, options: tuple[str, ...]
) -> None:
    result = invoke(subcommand, "--help")
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: etl-session {subcommand} [OPTIONS]")
    for option in options:
        assert option in result.output
    assert invoke(subcommand, "-h").output == result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == "etl-session 0.1.0"


def test_help_does_not_import_dbt() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from etl_session.operator_cli import cli\n"
        "CliRunner().invoke(cli, ['list', '--help'])\n"
        "CliRunner().invoke(cli, ['period', '2023-05'])\n"
        "print(sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- period -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["2023-05"], "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z\n  31 days, read in UTC\n"),
        (
            ["[2023-05-01, 2023-05-31]"],
            "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z\n  31 days, read in UTC\n",
        ),
        (
            ["2023-05-01T06:00/PT36H"],
            "2023-05-01T06:00:00Z → 2023-05-02T18:00:00Z\n  1 day 12 hours, read in UTC\n",
        ),
        (
            ["2023-03-26", "--timezone", "Europe/Berlin"],
            "2023-03-25T23:00:00Z → 2023-03-26T22:00:00Z\n  23 hours, read in Europe/Berlin\n",
        ),
    ],
)
def test_period_prints_what_etl_run_would_load(
    tmp_path: Path, args: list[str], output: str
) -> None:
    result = invoke("period", *args, "--project-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout == output


def test_period_json(tmp_path: Path) -> None:
    result = invoke("period", "2023-W18", "--json", "--project-dir", str(tmp_path))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "period_start": "2023-05-01T00:00:00Z",
        "period_end": "2023-05-08T00:00:00Z",
        "interval": "2023-05-01T00:00:00Z/2023-05-08T00:00:00Z",
        "timezone": "UTC",
        "duration_seconds": 604800.0,
    }


def test_period_reads_the_zone_like_etl_run(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text(
        "name: shop\nvars:\n  etl_session_timezone: America/New_York\n"
    )
    from_project = invoke("period", "2023-05-01", "--project-dir", str(tmp_path))
    assert from_project.stdout.splitlines() == [
        "2023-05-01T04:00:00Z → 2023-05-02T04:00:00Z",
        "  1 day, read in America/New_York",
    ]
    env = {"ETL_SESSION_TIMEZONE": "Asia/Tokyo"}
    from_env = invoke("period", "2023-05-01", "--project-dir", str(tmp_path), env=env)
    assert from_env.stdout.startswith("2023-04-30T15:00:00Z → 2023-05-01T15:00:00Z\n")
    given = invoke("period", "2023-05-01", "--project-dir", str(tmp_path), "--timezone", "UTC")
    assert given.stdout.startswith("2023-05-01T00:00:00Z → 2023-05-02T00:00:00Z\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["[2023-05-02, 2023-05-01]"],
            "Error: period end 2023-05-01 is before its start 2023-05-02",
        ),
        (["2023-05", "--timezone", "Mars/Base"], "Error: unknown time zone 'Mars/Base'"),
        (["nonsense"], "Error: "),
    ],
)
def test_a_bad_period_is_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = invoke("period", *args, "--project-dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


# --- usage errors: nothing runs, nothing changes ------------------------------------------------


@pytest.mark.parametrize(
    "args", [["list"], ["show", "3"], ["cleanup", "3", "--dry-run"], ["cleanup", "3", "--yes"]]
)
def test_a_folder_without_dbt_project_yml_is_refused(tmp_path: Path, args: list[str]) -> None:
    result = invoke(*args, "--project-dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: no dbt_project.yml in {tmp_path.resolve()}: "
        "run etl-session inside a dbt project or pass --project-dir\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_project_dir_comes_from_dbt_project_dir(tmp_path: Path) -> None:
    result = invoke("list", env={"DBT_PROJECT_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert f"no dbt_project.yml in {tmp_path.resolve()}" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["list", "--since", "2023-13-01"],
            "--since must be a date as YYYY-MM-DD, not '2023-13-01'",
        ),
        (["list", "--until", "May 1st"], "--until must be a date as YYYY-MM-DD, not 'May 1st'"),
        (
            ["list", "--since", "2023-05-02", "--until", "2023-05-01"],
            "--until 2023-05-01 is before --since 2023-05-02",
        ),
        (["list", "--limit", "0"], "--limit must be at least 1, not 0"),
        (
            ["list", "--vars", "[1, 2]"],
            "--vars must be a YAML mapping such as '{key: value}', not '[1, 2]'",
        ),
        (
            ["cleanup", "3"],
            "cleanup deletes rows: pass --yes to confirm, or --dry-run to see what it would delete",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke(*args, "--project-dir", str(project))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--status", "failed"], "'failed' is not one of 'running', 'success', 'error'"),
        (["show", "abc"], "'abc' is not a valid integer"),
        (["cleanup"], "Missing argument 'ID'"),
    ],
)
def test_click_refuses_malformed_options_with_exit_code_2(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke(*args, "--project-dir", str(project))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output

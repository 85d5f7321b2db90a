"""etl-session's command line: help, period checks, messages and exit codes. No warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from etl_session import operator as ops
from etl_session.errors import UsageError
from etl_session.operator_cli import _period_text, cli

SUBCOMMANDS = ("list", "show", "open", "close", "cleanup", "coverage", "period")
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
        (
            "list",
            (
                *DBT_OPTIONS,
                "--status",
                "--session-target",
                "--since",
                "--until",
                "--limit",
                "--timezone",
                "--utc",
            ),
        ),
        ("show", (*DBT_OPTIONS, "--timezone", "--utc")),
        ("close", (*DBT_OPTIONS, "--force", "--message")),
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


# --- edges of dates, numbers and zones: one line, exit 2, before any warehouse ----------------

BIGINT = 2**63 - 1
NOT_AN_ID = f"a session id is a whole number from 1 to {BIGINT}, not "
NOT_A_ZONE = (
    "--timezone must be an IANA time zone such as UTC, Europe/Berlin or America/New_York, not "
)
ARABIC_DATE = "\u0662\u0660\u0662\u0663-\u0660\u0665-\u0660\u0661"


def not_a_date(option: str, value: str) -> str:
    return f"{option} must be a date as YYYY-MM-DD, not {value!r}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--until", "9999-12-32"], not_a_date("--until", "9999-12-32")),
        (["list", "--since", "0000-01-01"], not_a_date("--since", "0000-01-01")),
        (["list", "--since", "10000-01-01"], not_a_date("--since", "10000-01-01")),
        (["list", "--until", ARABIC_DATE], not_a_date("--until", ARABIC_DATE)),
        (["list", "--until", "2023-02-29"], not_a_date("--until", "2023-02-29")),
        (
            ["list", "--since", "9999-12-31", "--until", "0001-01-01"],
            "--until 0001-01-01 is before --since 9999-12-31",
        ),
        (["list", "--limit", "-1"], "--limit must be at least 1, not -1"),
        (["list", "--limit", str(2**63)], f"--limit must be at most {BIGINT}, not {2**63}"),
        (["show", "0"], NOT_AN_ID + "0"),
        (["show", "--", "-5"], NOT_AN_ID + "-5"),
        (["close", str(10**30)], NOT_AN_ID + str(10**30)),
        (["cleanup", str(2**63), "--yes"], NOT_AN_ID + str(2**63)),
        (
            ["close", "3", "--message", "x" * 2001],
            "--message is 2001 characters long; at most 2000",
        ),
        (["list", "--timezone", "Mars/Base"], NOT_A_ZONE + "'Mars/Base'"),
        (["show", "3", "--timezone", ""], NOT_A_ZONE + "''"),
        (
            ["list", "--utc", "--timezone", "Europe/Berlin"],
            "--utc and --timezone Europe/Berlin contradict each other: give one",
        ),
    ],
)
def test_edges_of_dates_numbers_and_zones_are_one_line(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke(args[0], "--project-dir", str(project), *args[1:])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    option=st.sampled_from(["--since", "--until", "--limit", "--timezone", "ID"]),
    value=st.one_of(
        st.text(max_size=20),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda day: day.isoformat() + "x"),
    ),
)
def test_fuzzed_options_never_give_a_traceback(project: Path, option: str, value: str) -> None:
    """Whatever the text, an option that is not valid is one line and exit code 2."""
    args = ["show", "--", value] if option == "ID" else ["list", f"{option}={value}"]
    valid = _valid(option, value)
    assume(not valid)  # a valid value would go on to the warehouse
    result = CliRunner().invoke(cli, [args[0], "--project-dir", str(project), *args[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(("Error: ", "Usage: "))
    assert "Traceback" not in result.output


def _valid(option: str, value: str) -> bool:
    try:
        if option in {"--since", "--until"}:
            ops._day(value, option)
        elif option == "--timezone":
            ops.check_timezone(value)
        else:
            ops.check_session_id(int(value)) if option == "ID" else None
            if option == "--limit" and not 1 <= int(value) <= BIGINT:
                return False
    except (UsageError, ValueError):
        return False
    return True


@pytest.mark.parametrize(
    "call",
    [
        lambda: ops.show_session("3"),  # type: ignore[arg-type]
        lambda: ops.close_session(True),  # type: ignore[arg-type]
        lambda: ops.cleanup_session(3.0),  # type: ignore[arg-type]
        lambda: ops.close_session(3, message=b"x"),  # type: ignore[arg-type]
        lambda: ops.close_session(3, force="yes"),  # type: ignore[arg-type]
        lambda: ops.list_sessions(limit="5"),  # type: ignore[arg-type]
        lambda: ops.list_sessions(since=20230501),  # type: ignore[arg-type]
        lambda: ops.list_sessions(until="9999-99-99"),
    ],
)
def test_the_python_api_refuses_wrong_types_with_a_usage_error(call: Any) -> None:
    with pytest.raises(UsageError) as raised:
        call()
    assert "\n" not in str(raised.value)


# --- periods in their zone ----------------------------------------------------------------------


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("instant", "zone", "shown"),
    [
        (_utc(2023, 5, 1, 4), "America/New_York", "2023-05-01T00:00:00-04:00"),
        (_utc(2023, 1, 1, 5), "America/New_York", "2023-01-01T00:00:00-05:00"),
        (_utc(2023, 3, 25, 23), "Europe/Berlin", "2023-03-26T00:00:00+01:00"),
        (_utc(2023, 3, 26, 22), "Europe/Berlin", "2023-03-27T00:00:00+02:00"),
        (_utc(2023, 4, 30, 18, 30), "Asia/Kolkata", "2023-05-01T00:00:00+05:30"),
        (_utc(2023, 5, 1), "UTC", "2023-05-01T00:00:00Z"),
        (_utc(2023, 5, 1, 0, 0, 0, 500), "UTC", "2023-05-01T00:00:00.000500Z"),
    ],
)
def test_local_iso_shows_an_instant_in_a_zone(instant: datetime, zone: str, shown: str) -> None:
    assert ops.local_iso(instant, zone) == shown
    assert datetime.fromisoformat(shown.replace("Z", "+00:00")) == instant


def test_a_session_is_shown_in_its_own_zone_and_its_json_stays_utc() -> None:
    session = ops.SessionRecord(
        session_id=7, source="shop", target="dev",
        period_start=datetime(2023, 5, 1, 4, tzinfo=timezone.utc),
        period_end=datetime(2023, 6, 1, 4, tzinfo=timezone.utc),
        run_id="r", invocation_id=None, dbt_command="build", started=None, finished=None,
        status="success", message=None, nodes_ok=3, nodes_error=0, nodes_skipped=0,
        period_timezone="America/New_York",
    )  # fmt: skip
    assert session.zone == "America/New_York"
    shown = _period_text(session, None)
    assert shown == "2023-05-01T00:00:00-04:00 → 2023-06-01T00:00:00-04:00"
    assert _period_text(session, "UTC") == "2023-05-01T04:00:00Z → 2023-06-01T04:00:00Z"
    as_dict = session.as_dict()
    assert (as_dict["period_start"], as_dict["period_timezone"]) == (
        "2023-05-01T04:00:00Z", "America/New_York"
    )  # fmt: skip


# --- which models stamp session ids (from the manifest) ----------------------------------------


def _model(macros: list[str], materialized: str = "incremental") -> dict[str, Any]:
    return {
        "resource_type": "model",
        "config": {"materialized": materialized},
        "depends_on": {"macros": macros, "nodes": []},
    }


def test_stamping_models_follow_macros_never_column_names() -> None:
    manifest = {
        "macros": {
            "macro.etl_session.session_id": {"depends_on": {"macros": []}},
            "macro.shop.audit_columns": {
                "depends_on": {"macros": ["macro.etl_session.session_id"]}
            },
            "macro.shop.more_audit": {"depends_on": {"macros": ["macro.shop.audit_columns"]}},
            "macro.shop.unrelated": {"depends_on": {"macros": []}},
            "macro.shop.materialization_stamped_default": {
                "depends_on": {"macros": ["macro.etl_session.session_id"]}
            },
        },
        "nodes": {
            "model.shop.direct": _model(["macro.etl_session.session_id"]),
            "model.shop.through_macros": _model(["macro.shop.more_audit"]),
            "model.shop.by_materialization": _model([], materialized="stamped"),
            "model.shop.web_sessions": _model(["macro.shop.unrelated"], materialized="table"),
            "seed.shop.session_id_seed": {
                "resource_type": "seed",
                "depends_on": {"macros": ["macro.etl_session.session_id"]},
            },
        },
    }
    assert ops.stamping_models(manifest) == [
        "model.shop.by_materialization",
        "model.shop.direct",
        "model.shop.through_macros",
    ]
    assert ops.stamping_models({}) == []

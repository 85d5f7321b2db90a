"""etl-run's command line: options, messages and exit codes. No warehouse is touched here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import etl_session
from etl_session.cli import cli
from etl_session.results import one_line


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A dbt project folder with its own profiles.yml (never connected to here)."""
    (tmp_path / "dbt_project.yml").write_text(
        "name: shop\nprofile: shop\nconfig-version: 2\nvars:\n  other: 1\n"
    )
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n"
    )
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def dry_run(project: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = invoke("--project-dir", str(project), "--dry-run", "--json", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_option_has_help_text() -> None:
    for param in cli.params:
        if isinstance(param, click.Option):
            assert param.help, f"{param.opts} has no help text"


def test_help_shows_every_option_and_the_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for option in (
        "--period", "--timezone", "--source", "--project-dir", "--profiles-dir", "--target",
        "--select", "--exclude", "--full-refresh", "--threads", "--vars", "--command",
        "--dry-run", "--json", "--quiet", "--version",
    ):  # fmt: skip
        assert option in result.output
    assert "130 interrupted" in " ".join(result.output.split())
    assert invoke("-h").output == result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == "etl-run 0.1.0"


def test_help_does_not_import_dbt() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from etl_session.cli import cli\n"
        "CliRunner().invoke(cli, ['--help'])\n"
        "print(sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["etl_run", "etl_session"])
def test_the_commands_tune_their_own_gc_and_the_api_leaves_its_hosts_alone(
    command: str, tmp_path: Path
) -> None:
    """The console scripts raise the young generation's GC threshold before dbt is imported,
    freeze what the import built (dbt's start-up is mostly long-lived objects) and keep dbt's
    compiled Jinja templates on disk; the API, dbt run through it included, changes nothing in
    its host's GC or dbt."""
    code = (
        "import gc, json, sys\n"
        "default = gc.get_threshold()\n"
        "import etl_session, etl_session.session, etl_session.operator\n"
        "from etl_session import _entry, _jinja_cache, dbt_invoke\n"
        "from dbt_common.clients.jinja import MacroFuzzEnvironment\n"
        "dbt_invoke.invoke(['--version'])\n"
        "api = [gc.get_threshold(), gc.get_freeze_count(),\n"
        "       str(_jinja_cache.stats()['installed']), MacroFuzzEnvironment.compile.__module__]\n"
        f"sys.argv = ['{command.replace('_', '-')}', '--help']\n"
        "try:\n"
        f"    _entry.{command}()\n"
        "except SystemExit:\n"
        "    pass\n"
        "tuned = gc.get_threshold()\n"
        "dbt_invoke.invoke(['--version'])\n"
        "frozen = gc.get_freeze_count()\n"
        "cache = [str(_jinja_cache.stats()['installed']),\n"
        "         MacroFuzzEnvironment.compile.__module__]\n"
        "dbt_invoke.invoke(['--version'])\n"
        "print(json.dumps([default, api, tuned, frozen, gc.get_freeze_count(), cache]))\n"
    )
    env = {**os.environ, "ETL_SESSION_JINJA_CACHE": str(tmp_path / "jinja")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    default, api, tuned, frozen, frozen_later, cache = json.loads(
        out.stdout.strip().splitlines()[-1]
    )
    assert api == [default, 0, "None", "jinja2.environment"]
    assert tuned == [10_000, *default[1:]]
    assert frozen > 10_000  # the objects dbt's import built
    assert frozen_later == frozen  # once: later invocations' objects stay collectable
    assert cache == [str(tmp_path / "jinja"), "etl_session._jinja_cache"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--period", "[2023-05-01, 2023-04-30]"],
            "Error: period end 2023-04-30 is before its start 2023-05-01",
        ),
        (["--threads", "0", "--period", "2023-05"], "Error: --threads must be at least 1, not 0"),
        (
            ["--vars", "[1, 2]", "--period", "2023-05"],
            "Error: --vars must be a YAML mapping such as '{key: value}', not '[1, 2]'",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke("--project-dir", str(project), *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]


@pytest.mark.parametrize(
    ("name", "given", "maximum"),
    [
        *(("ETL_SESSION_REPAIR_RETRY_SECONDS", g, "86400") for g in ["soon", "-1", "nan", "inf"]),
        ("ETL_SESSION_REPAIR_RETRY_SECONDS", "90000", "86400"),
        *(("ETL_SESSION_CANCEL_GRACE_SECONDS", g, "3600") for g in ["later", "-0.5", "nan"]),
        ("ETL_SESSION_CANCEL_GRACE_SECONDS", "3601", "3600"),
    ],
)
def test_a_bad_seconds_setting_is_refused_before_anything_runs(
    project: Path, name: str, given: str, maximum: str
) -> None:
    result = invoke(
        "--project-dir", str(project), "--period", "2023-05", env={name: given}
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {name} is {given!r}: expected a number of seconds from 0 to {maximum}\n"
    )
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]


def test_unparseable_vars_is_a_one_line_error(project: Path) -> None:
    result = invoke("--project-dir", str(project), "--period", "2023-05", "--vars", "{a: [")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --vars is not valid YAML: ")
    assert result.stderr.count("\n") == 1


def test_a_folder_without_dbt_project_yml_is_refused(tmp_path: Path) -> None:
    result = invoke("--project-dir", str(tmp_path), "--period", "2023-05")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: no dbt_project.yml in {tmp_path.resolve()}: "
        "run etl-run inside a dbt project or pass --project-dir"
    )


def test_a_profiles_dir_without_profiles_yml_is_refused(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("--project-dir", str(project), "--profiles-dir", str(empty), "--period", "2023")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: no profiles.yml in {empty}: pass --profiles-dir"


def test_an_unknown_command_is_refused_by_click(project: Path) -> None:
    result = invoke("--project-dir", str(project), "--command", "seed")
    assert result.exit_code == 2
    assert "'seed' is not one of 'build', 'run'" in result.stderr


def test_unknown_timezone_is_a_period_error(project: Path) -> None:
    result = invoke("--project-dir", str(project), "--period", "2023-05", "--timezone", "Mars/Base")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown time zone 'Mars/Base'")
    assert result.stderr.count("\n") == 1


def test_json_reports_usage_errors_on_stdout(project: Path) -> None:
    result = invoke("--project-dir", str(project), "--json", "--period", "nonsense")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 2
    assert payload["status"] == "error"
    assert "nonsense" in payload["message"]


def test_dry_run_resolves_the_period_and_shows_the_dbt_command(project: Path) -> None:
    payload = dry_run(project, "--period", "[2023-05-01, 2023-05-31]")
    assert payload["status"] == "dry-run"
    assert payload["period_start"] == "2023-05-01T00:00:00Z"
    assert payload["period_end"] == "2023-06-01T00:00:00Z"
    assert payload["dbt_command"][:2] == ["dbt", "build"]
    assert payload["session_id"] is None
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]


def test_dry_run_in_text_prints_what_would_run(project: Path) -> None:
    result = invoke("--project-dir", str(project), "--dry-run", "--period", "2023-05")
    assert result.exit_code == 0
    assert result.stdout.startswith("would run dbt build --project-dir ")
    assert result.stdout.rstrip().endswith("for 2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z")


def test_dbt_options_keep_dbt_names_and_extra_arguments_pass_verbatim(project: Path) -> None:
    payload = dry_run(
        project,
        "--period", "2023-05",
        "-t", "prod", "-s", "fct_orders+", "--select", "tag:daily", "--exclude", "slow",
        "--full-refresh", "--threads", "3", "--vars", "{a: 1}", "--command", "run",
        "-q", "--", "--fail-fast", "--warn-error",
    )  # fmt: skip
    command = payload["dbt_command"]
    assert command[:3] == ["dbt", "--quiet", "run"]
    joined = " ".join(command)
    for fragment in (
        f"--project-dir {project.resolve()}",
        f"--profiles-dir {project.resolve()}",
        "--target prod",
        "--select fct_orders+ --select tag:daily",
        "--exclude slow",
        "--full-refresh",
        "--threads 3",
        "--vars {a: 1}",
    ):
        assert fragment in joined
    assert command[-2:] == ["--fail-fast", "--warn-error"]


def test_dbt_env_vars_are_honoured(project: Path) -> None:
    result = invoke(
        "--dry-run", "--json", "--period", "2023-05",
        env={"DBT_PROJECT_DIR": str(project), "DBT_TARGET": "ci"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    command = " ".join(json.loads(result.stdout)["dbt_command"])
    assert f"--project-dir {project.resolve()}" in command
    assert "--target ci" in command


def test_timezone_option_reads_naive_times_in_that_zone(project: Path) -> None:
    payload = dry_run(project, "--period", "2023-05-01", "--timezone", "Europe/Berlin")
    assert (payload["period_start"], payload["period_end"]) == (
        "2023-04-30T22:00:00Z",
        "2023-05-01T22:00:00Z",
    )


def test_timezone_comes_from_the_environment_then_the_project(project: Path) -> None:
    from_env = dry_run(
        project, "--period", "2023-05-01", env={"ETL_SESSION_TIMEZONE": "Asia/Kolkata"}
    )
    assert from_env["period_start"] == "2023-04-30T18:30:00Z"

    (project / "dbt_project.yml").write_text(
        "name: shop\nprofile: shop\nvars:\n  etl_session_timezone: America/New_York\n"
    )
    from_project = dry_run(project, "--period", "2023-05-01", env={"ETL_SESSION_TIMEZONE": ""})
    assert from_project["period_start"] == "2023-05-01T04:00:00Z"

    explicit = dry_run(
        project, "--period", "2023-05-01", "--timezone", "UTC",
        env={"ETL_SESSION_TIMEZONE": "Asia/Kolkata"},
    )  # fmt: skip
    assert explicit["period_start"] == "2023-05-01T00:00:00Z"


def test_dry_run_without_a_period_needs_the_project_to_say_where_it_would_continue(
    project: Path,
) -> None:
    # The period comes from the warehouse and the project's nodes; this project has none.
    result = invoke("--project-dir", str(project), "--dry-run")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: nothing to load: the project has no models, seeds, snapshots or tests\n"
    )
    assert result.stdout == ""


# -- the Python API validates its arguments like the CLI --------------------------------------


def api_dry_run(project: Path, **kwargs: object) -> etl_session.SessionResult:
    return etl_session.run(period="2023-05", project_dir=str(project), dry_run=True, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"select": "fct_events"}, "--select fct_events --"),
        ({"select": ("a", "b+")}, "--select a --select b+ --"),
        ({"exclude": "tag:slow"}, "--exclude tag:slow"),
        ({"dbt_args": "--fail-fast"}, "--fail-fast"),
        ({"vars": {"a": 1, "b": "x y"}}, '--vars {"a": 1, "b": "x y"}'),
        ({"vars": "{a: 1}"}, "--vars {a: 1}"),
        ({"threads": 4}, "--threads 4"),
    ],
)
def test_the_api_takes_a_str_as_one_item_and_vars_as_a_mapping_or_yaml(
    project: Path, kwargs: dict[str, object], fragment: str
) -> None:
    result = api_dry_run(project, **kwargs)
    assert (result.status, result.exit_code, result.ok) == ("dry-run", 0, True)
    assert fragment in " ".join(result.dbt_command) + " --"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": "4"}, "--threads must be an integer, not '4'"),
        ({"threads": True}, "--threads must be an integer, not True"),
        ({"threads": 0}, "--threads must be at least 1, not 0"),
        ({"source": "a\x00b"}, "--source contains a NUL character"),
        ({"source": "caf\udce9"}, "--source is not valid UTF-8 text"),
        ({"source": 7}, "--source must be a string, not int"),
        ({"target": b"prod"}, "--target must be a string, not bytes"),
        ({"timezone": "Europe/\x00Berlin"}, "--timezone contains a NUL character"),
        ({"select": 5}, "--select must be a string or a list of strings, not int"),
        ({"select": [b"x"]}, "--select must hold strings only, not bytes"),
        ({"exclude": {"a": 1}}, "--exclude must be a string or a list of strings, not dict"),
        ({"dbt_args": ["--x", None]}, "dbt_args must hold strings only, not NoneType"),
        ({"vars": [1, 2]}, "vars must be a mapping or YAML text, not list"),
        ({"vars": "[1, 2]"}, "--vars must be a YAML mapping such as '{key: value}', not '[1, 2]'"),
        ({"vars": {1: "a"}}, "vars must have string keys"),
        ({"vars": {"a": float("nan")}}, "vars cannot be passed to dbt: "),
        ({"vars": {"etl_run_id": "x"}}, "--vars etl_run_id is reserved while etl-run drives"),
        ({"full_refresh": "yes"}, "--full-refresh must be True or False, not 'yes'"),
        ({"wait": "10"}, "--wait must be a number of seconds (0 or more), not '10'"),
        ({"wait": -1}, "--wait must be a number of seconds (0 or more), not -1"),
        ({"command": "seed"}, "--command must be one of build, run, not 'seed'"),
        ({"project_dir": 5}, "--project-dir must be a path, not int"),
        ({"project_dir": "a\x00b"}, "--project-dir contains a NUL character"),
        ({"now": "2023-05-01"}, "now must be a datetime, not str"),
        ({"selct": "x"}, "run() got an unknown option 'selct'"),
    ],
)
def test_the_api_raises_a_one_line_usage_error_for_wrong_types(
    project: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"project_dir": str(project), **kwargs}
    with pytest.raises(etl_session.UsageError) as raised:
        etl_session.run(period="2023-05", dry_run=True, **arguments)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]


@pytest.mark.parametrize("period", [202305, b"2023-05", ["2023-05"], "2023-\x0005"])
def test_a_period_that_is_not_text_is_a_usage_error(project: Path, period: object) -> None:
    with pytest.raises(etl_session.UsageError, match=r"^--period "):
        etl_session.run(period=period, project_dir=str(project), dry_run=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "exit_code", "ok"),
    [
        ("success", 0, True),
        ("up-to-date", 0, True),
        ("dry-run", 0, True),
        ("error", 0, False),
        ("error", 1, False),
        ("error", 143, False),
        ("success", 1, False),
    ],
)
def test_ok_agrees_with_the_status(status: str, exit_code: int, ok: bool) -> None:
    result = etl_session.SessionResult(status=status, exit_code=exit_code, message="")
    assert result.ok is ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "caf\udce9"], "Error: --source is not valid UTF-8 text"),
        (["--period", "2023-\udce905"], "Error: --period is not valid UTF-8 text"),
        (["--vars", "{etl_period_start: 2023-01-01}"], "Error: --vars etl_period_start is "
         "reserved while etl-run drives the session: use --period instead"),
        (["--vars", "{etl_source: x}"], "Error: --vars etl_source is reserved while etl-run "
         "drives the session: use --source instead"),
    ],
)  # fmt: skip
def test_bad_text_on_the_command_line_is_one_line_and_exit_2(
    project: Path, args: list[str], message: str
) -> None:
    result = invoke("--project-dir", str(project), "--period", "2023-05", *args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"


def test_non_utf8_bytes_in_argv_are_one_line_and_exit_2(project: Path) -> None:
    etl_run = Path(sys.executable).parent / "etl-run"
    out = subprocess.run(
        [etl_run, "--project-dir", project, "--period", "2023-05", "--source", b"caf\xe9"],
        capture_output=True,
    )
    assert out.returncode == 2
    assert out.stderr == b"Error: --source is not valid UTF-8 text\n"


def test_etl_run_handles_sigterm_before_its_heavy_imports() -> None:
    # The console script's entry installs the SIGTERM handler (exit 143) before the CLI, click
    # and the runner are imported (~0.1 s): only Python's own start-up is left unguarded.
    probe = """
import importlib.abc, signal, sys

class Probe(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "etl_session.cli":
            handler = signal.getsignal(signal.SIGTERM)
            print(getattr(handler, "__name__", handler), sorted(m for m in ("click", "yaml",
                  "etl_session.session") if m in sys.modules), flush=True)
            raise SystemExit(0)

sys.meta_path.insert(0, Probe())
from etl_session._entry import etl_run
etl_run()
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "_terminated_while_starting []\n"


def test_the_package_exports_what_it_lists() -> None:
    assert sorted(etl_session.__all__) == sorted([*etl_session._EXPORTS, "__version__"])
    for name in etl_session.__all__:
        assert getattr(etl_session, name) is not None
    with pytest.raises(AttributeError):
        etl_session.no_such_name  # noqa: B018


def test_messages_are_plain_text() -> None:
    coloured = (
        "\x1b[31mDatabase Error in model x\x1b[0m\n"
        "  \x1b[1;33mboom\x1b[0m \x1b]8;;u\x07l\x1b]8;;\x07"
    )
    assert one_line(coloured) == "Database Error in model x boom l"
    # Other escapes a terminal would act on: reset (ESC c), a character set, a lone BEL/ESC.
    assert one_line("a\x1bc b\x1b(B c\x07 d\x1b") == "a b c d"


def test_a_liveness_lock_that_cannot_be_held_is_a_warning_not_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dbt.adapters.factory import reset_adapters

    from etl_session.dbt_invoke import LivenessHold

    reset_adapters()  # earlier in-process invocations of this test run leave theirs registered
    hold = LivenessHold()
    hold.acquire("select 1")  # outside a dbt invocation: no adapter to open a connection with

    assert not hold.held
    [warning] = hold.warnings
    assert warning.startswith("etl-run: warning: could not hold this load's liveness lock (")
    assert capsys.readouterr().err == warning + "\n"
    hold.close()

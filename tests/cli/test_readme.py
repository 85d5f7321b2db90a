"""The README tells the truth: its quickstart, its CI command and its option table."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
from click.testing import CliRunner

from etl_session.cli import cli

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_quickstart_is_exactly_two_commands() -> None:
    install_and_run, install_and_test = quickstart_commands()
    assert install_and_run.startswith('pip install -e ".[duckdb]" && etl-run ')
    assert install_and_test == 'pip install -e ".[test]" && pytest'


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert quickstart_commands()[1] in ci


def test_the_main_job_command_is_valid_etl_run_usage(tmp_path: Path) -> None:
    etl_run = quickstart_commands()[0].split(" && ", 1)[1]
    args = shlex.split(etl_run)[1:]
    args[args.index("--project-dir") + 1] = str(REPO / args[args.index("--project-dir") + 1])
    result = CliRunner().invoke(cli, [*args, "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2023-05-01T00:00:00Z → 2023-06-01T00:00:00Z" in result.output


def test_the_option_table_lists_every_option_and_only_real_ones() -> None:
    section = README.split("## etl-run", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(?:-\w, )?(--[a-z-]+)", section, re.MULTILINE))
    documented |= set(re.findall(r"`(--version)`", section))
    real = {
        opt
        for param in cli.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    }
    assert documented == real

"""Thousands of random period strings: only the one-line period error, no session, no dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from etl_session import PeriodError, dbt_invoke, resolve_period
from etl_session.cli import cli

ALPHABET = "0123456789-:TZWQP[]/, +.dayslotwhrnmy'\";\n\x00é"


def _tripwire(*args: object, **kwargs: object) -> object:
    raise AssertionError("dbt must not run for a bad period")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "dbt_project.yml").write_text("name: fuzz\nprofile: fuzz\n")
    (folder / "profiles.yml").write_text(
        "fuzz:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {folder / 'never.duckdb'}\n"
    )
    return folder


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(st.text(max_size=60), st.text(alphabet=ALPHABET, max_size=40)))
def test_random_period_text_is_refused_before_anything_runs(project: Path, text: str) -> None:
    try:
        resolve_period(text)
    except PeriodError:
        pass
    else:
        assume(False)  # a valid period would load: not this test's business
    assume("\x00" not in text)  # the OS refuses NUL in argv; CliRunner does not, users cannot

    original = dbt_invoke.invoke
    dbt_invoke.invoke = _tripwire  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(cli, ["--project-dir", str(project), "--period", text])
    finally:
        dbt_invoke.invoke = original  # type: ignore[assignment]

    assert result.exit_code == 2, (text, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert sorted(p.name for p in project.iterdir()) == ["dbt_project.yml", "profiles.yml"]

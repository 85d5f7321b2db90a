"""etl-session coverage's plans (etl_session._coverage_plan), the parts that need no warehouse:
what makes a fingerprint change, where a password may come from, which connections and which
files keep dbt's path the only one. tests/integration/test_coverage_fast_path.py runs the fast path
for real."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from etl_session import _coverage_plan as plans

PROFILES = """\
shop:
  target: pg
  outputs:
    pg:
      type: postgres
      host: "{{ env_var('SHOP_HOST', 'localhost') }}"
      password: PASSWORD
      user: me
"""


def project(tmp_path: Path) -> dict[str, Any]:
    """A plan's file part over a small project: two model files, profiles.yml."""
    models = tmp_path / "models"
    (models / "staging").mkdir(parents=True)
    (models / "orders.sql").write_text("select 1 as id")
    (models / "staging" / "stg.sql").write_text("select '{{ env_var(\"SHOP_SCHEMA\") }}'")
    (tmp_path / "profiles.yml").write_text(PROFILES.replace("PASSWORD", "s3cret"))
    return {
        "dirs": [str(models)],
        "files": [str(tmp_path / "profiles.yml"), str(tmp_path / "dbt_project.yml")],
        "profiles": str(tmp_path / "profiles.yml"),
        "profile": "shop",
        "output": "pg",
        "password": {"literal": True},
        "package_root": None,
    }


def test_the_fingerprint_changes_with_every_file_dbt_reads_and_every_variable(
    tmp_path: Path,
) -> None:
    plan = project(tmp_path)
    plan["env_names"] = sorted(
        plans._env_names([str(tmp_path / "models/staging/stg.sql")], plan) or ()
    )
    assert plan["env_names"] == ["SHOP_HOST", "SHOP_SCHEMA"]
    environ = {"SHOP_SCHEMA": "a", "HOME": "/root"}
    first = plans.fingerprint(plan, environ)
    assert plans.fingerprint(plan, dict(environ)) == first
    assert plans.fingerprint(plan, {**environ, "HOME": "/elsewhere"}) == first  # not read

    changed = {
        "a variable a file names": {**environ, "SHOP_SCHEMA": "b"},
        "a variable a file names, unset": {"HOME": "/root"},
        "a variable profiles.yml names, set": {**environ, "SHOP_HOST": "db"},
        "a DBT_ variable": {**environ, "DBT_TARGET": "prod"},
        "an ETL_SESSION_ variable": {**environ, "ETL_SESSION_TIMEZONE": "Europe/Berlin"},
    }
    for what, variables in changed.items():
        assert plans.fingerprint(plan, variables) != first, what

    model = tmp_path / "models" / "orders.sql"
    edits = [
        ("a model edited", lambda: model.write_text("select 2 as id, 3 as other")),
        ("a model touched", lambda: os.utime(model, ns=(1, 1))),
        ("a model added", lambda: (tmp_path / "models" / "new.sql").write_text("select 1")),
        ("a folder added", lambda: (tmp_path / "models" / "more").mkdir()),
        ("a model in it", lambda: (tmp_path / "models" / "more" / "m.sql").write_text("")),
        ("a nested model removed", lambda: (tmp_path / "models/staging/stg.sql").unlink()),
        ("dbt_project.yml appears", lambda: (tmp_path / "dbt_project.yml").write_text("x")),
        ("profiles.yml edited", lambda: (tmp_path / "profiles.yml").write_text(PROFILES)),
    ]
    for what, edit in edits:
        before = plans.fingerprint(plan, environ)
        edit()
        if what == "a folder added":  # an empty folder holds nothing dbt reads
            assert plans.fingerprint(plan, environ) == before
        else:
            assert plans.fingerprint(plan, environ) != before, what


def test_the_password_is_never_in_the_fingerprint_nor_in_the_plan(tmp_path: Path) -> None:
    plan = project(tmp_path)
    (tmp_path / "profiles.yml").write_text(
        PROFILES.replace("PASSWORD", "\"{{ env_var('DBT_ENV_SECRET_PG', 'x') }}\"")
    )
    plan["password"] = plans._password_source(plan["profiles"], "shop", "pg")
    assert plan["password"] == {"env": "DBT_ENV_SECRET_PG", "default": "x"}
    plan["env_names"] = sorted(plans._env_names([], plan) or ())
    assert plan["env_names"] == ["SHOP_HOST"]  # the password's variable is left out
    first = plans.fingerprint(plan, {"DBT_ENV_SECRET_PG": "one"})
    assert plans.fingerprint(plan, {"DBT_ENV_SECRET_PG": "two"}) == first
    assert plans._password(plan["password"], plan["profiles"], "shop", "pg") == "x"
    os.environ["DBT_ENV_SECRET_PG"] = "from-env"
    try:
        assert plans._password(plan["password"], plan["profiles"], "shop", "pg") == "from-env"
    finally:
        del os.environ["DBT_ENV_SECRET_PG"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s3cret", {"literal": True}),
        ("\"{{ env_var('PGPASSWORD') }}\"", {"env": "PGPASSWORD", "default": None}),
        ('"{{env_var(\\"PGPASSWORD\\", \'\')}}"', {"env": "PGPASSWORD", "default": ""}),
        ("\"{{ env_var('PGPASSWORD') | trim }}\"", None),
        ("\"{{ var('password') }}\"", None),
        ('"{% if true %}x{% endif %}"', None),
        ("12345", None),  # YAML reads a number: dbt's rendering would decide
    ],
)
def test_a_password_comes_from_a_literal_or_one_env_var_or_dbt_alone(
    tmp_path: Path, raw: str, expected: dict[str, Any] | None
) -> None:
    (tmp_path / "profiles.yml").write_text(PROFILES.replace("PASSWORD", raw))
    assert plans._password_source(str(tmp_path / "profiles.yml"), "shop", "pg") == expected


def test_a_variable_named_by_an_expression_keeps_dbts_path_the_only_one(tmp_path: Path) -> None:
    plan = project(tmp_path)
    dynamic = tmp_path / "models" / "dynamic.sql"
    dynamic.write_text("select '{{ env_var(\"SHOP_\" ~ target.name) }}'")
    assert plans._env_names([str(dynamic)], plan) is None
    # ... but the package's own files may: it reads ETL_SESSION_* only, always fingerprinted.
    plan["package_root"] = str(tmp_path / "models")
    assert plans._env_names([str(dynamic)], plan) == {"SHOP_HOST"}


@pytest.mark.parametrize(
    ("path", "extras", "fast"),
    [
        ("warehouse.duckdb", {}, True),
        (":memory:", {}, False),
        ("md:my_db", {}, False),
        ("s3://bucket/warehouse.duckdb", {}, False),
        ("warehouse.duckdb", {"extensions": ["httpfs"]}, False),
        ("warehouse.duckdb", {"attach": [{"path": "other.duckdb"}]}, False),
        ("warehouse.duckdb", {"settings": {"TimeZone": "Europe/Berlin"}}, False),
        ("warehouse.duckdb", {"plugins": [{"module": "excel"}]}, False),
    ],
)
def test_a_duckdb_connection_is_planned_only_when_a_plain_file_is_all_it_is(
    path: str, extras: dict[str, Any], fast: bool
) -> None:
    credentials = SimpleNamespace(path=path, **extras)
    connect = plans._duckdb_connect(credentials)
    assert (connect is not None) is fast
    if connect is not None:
        assert connect == {"path": os.path.abspath(path)}


def test_a_postgres_role_or_search_path_keeps_dbts_path_the_only_one() -> None:
    base = dict(
        database="db", user="me", host="h", port=5432, connect_timeout=10, keepalives_idle=0,
        sslmode=None, sslcert=None, sslkey=None, sslrootcert=None, application_name="dbt",
    )  # fmt: skip
    plain = plans._postgres_connect(SimpleNamespace(role=None, search_path=None, **base))
    assert plain == {
        "dbname": "db",
        "user": "me",
        "host": "h",
        "port": 5432,
        "connect_timeout": 10,
        "application_name": "dbt",
    }
    assert plans._postgres_connect(SimpleNamespace(role="loader", search_path=None, **base)) is None
    assert plans._postgres_connect(SimpleNamespace(role=None, search_path="x", **base)) is None


def test_no_plan_a_damaged_plan_or_a_plan_of_another_format_means_asking_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plans"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(plans.ENV_VAR, str(folder))
    assert plans.answer("k") is None  # none yet
    for text in ("", "garbage", "[]", json.dumps({"version": 0}), json.dumps({"version": 1})):
        (folder / "k.json").write_text(text)
        assert plans.answer("k") is None, text
    monkeypatch.setenv(plans.ENV_VAR, "off")
    assert plans.directory() is None
    assert plans.keep("k", plans.Capture({})) is False


def test_the_plan_is_named_by_the_whole_command_line_and_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args: dict[str, Any] = dict(
        project_dir=".", profiles_dir=None, target=None, vars=None, source=None
    )
    first = plans.key(**args)
    assert plans.key(**args) == first
    for change in (
        {"profiles_dir": "."},
        {"target": "prod"},
        {"vars": "{a: 1}"},
        {"source": "crm"},
        {"project_dir": "elsewhere"},
    ):
        assert plans.key(**{**args, **change}) != first, change
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert plans.key(**{**args, "project_dir": ".."}) != first  # a relative DuckDB path moves

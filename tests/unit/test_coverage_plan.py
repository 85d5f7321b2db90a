"""etl-session coverage's plans (etl_session._coverage_plan), the parts that need no warehouse:
what makes a fingerprint change, where a password may come from, which connections and which
files keep dbt's path the only one. tests/integration/test_coverage_fast_path.py runs the fast path
for real."""

from __future__ import annotations

import json
import os
import time
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
    (models / "staging").mkdir(parents=True, exist_ok=True)
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
        "package_dirs": [],
        "listings": [],
        "answer": {"source": "shop", "target": "pg", "models": []},
    }


def names(paths: list[str], plan: dict[str, Any]) -> set[str] | None:
    texts = plans._texts(paths, plan)
    assert texts is not None
    return plans._env_names([text for _path, text in texts], plan)


def test_the_fingerprint_changes_with_every_file_dbt_reads_and_every_variable(
    tmp_path: Path,
) -> None:
    plan = project(tmp_path)
    plan["env_names"] = sorted(names([str(tmp_path / "models/staging/stg.sql")], plan) or ())
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
    plan["env_names"] = sorted(names([], plan) or ())
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
    assert names([str(dynamic)], plan) is None
    # ... but the package's own files may: it reads ETL_SESSION_* only, always fingerprinted.
    plan["package_dirs"] = [str(tmp_path / "models")]
    assert names([str(dynamic)], plan) == {"SHOP_HOST"}
    # ... and only in its resource folders: a project that lives inside the package's folder
    # (examples/shop, integration tests) is scanned like any other.
    plan["package_dirs"] = [str(tmp_path / "macros")]
    assert names([str(dynamic)], plan) is None


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
        "connect_timeout": plans.CONNECT_TIMEOUT,  # dbt's path waits again after it
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


def test_a_secret_is_left_out_of_the_fingerprint_and_a_secret_outside_the_password_keeps_no_plan(
    tmp_path: Path,
) -> None:
    plan = project(tmp_path)
    plan["env_names"] = []
    first = plans.fingerprint(plan, {"DBT_ENV_SECRET_GIT_TOKEN": "one"})
    assert plans.fingerprint(plan, {"DBT_ENV_SECRET_GIT_TOKEN": "two"}) == first
    profiles = str(tmp_path / "profiles.yml")
    assert not plans._secret_outside_password(profiles, "shop", "pg")
    Path(profiles).write_text(
        PROFILES.replace("user: me", "user: \"{{ env_var('DBT_ENV_SECRET_USER') }}\"")
    )
    assert plans._secret_outside_password(profiles, "shop", "pg")


def test_the_packages_folder_is_listed_so_a_package_added_or_removed_changes_the_fingerprint(
    tmp_path: Path,
) -> None:
    plan = project(tmp_path)
    plan["env_names"] = []
    packages = tmp_path / "dbt_packages"
    packages.mkdir()
    (packages / "etl_session").symlink_to(tmp_path / "models", target_is_directory=True)
    plan["listings"] = [str(packages)]
    first = plans.fingerprint(plan, {})
    (packages / "other").mkdir()
    second = plans.fingerprint(plan, {})
    assert second != first
    (packages / "etl_session").unlink()  # dbt clean
    assert plans.fingerprint(plan, {}) not in (first, second)


def described(tmp_path: Path, begin: str | None = None) -> plans.Capture:
    capture = plans.Capture({})
    plan = project(tmp_path)
    plan["answer"]["models"] = [
        {"unique_id": "model.shop.orders", "name": "orders", "begin": begin}
    ]
    capture.described = plan
    return capture


def test_a_plan_is_kept_only_when_no_file_changed_just_before_dbt_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plans"
    monkeypatch.setenv(plans.ENV_VAR, str(folder))
    capture = described(tmp_path)  # its files were written just now
    assert plans.keep("a" * 40, capture) is False
    assert not list(folder.glob("*.json"))
    old = time.time() - 60
    for path in (tmp_path / "models").rglob("*"):
        os.utime(path, (old, old))
    os.utime(tmp_path / "profiles.yml", (old, old))
    assert plans.keep("a" * 40, capture) is True
    [kept] = folder.glob("*.json")
    assert "s3cret" not in kept.read_text()  # the literal password stays in profiles.yml
    assert (folder.stat().st_mode & 0o077, kept.stat().st_mode & 0o077) == (0, 0)


def test_no_plan_when_a_models_beginning_may_follow_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(plans.ENV_VAR, str(tmp_path / "plans"))
    capture = described(tmp_path, begin="2026-09-06")
    without_beginning = described(tmp_path, begin=None)
    (tmp_path / "models" / "window.sql").write_text(
        "{{ config(etl_period_begin=(run_started_at - modules.datetime.timedelta(days=90))"
        ".strftime('%Y-%m-%d')) }} select 1"
    )
    old = time.time() - 60
    for path in [*(tmp_path / "models").rglob("*"), tmp_path / "profiles.yml"]:
        os.utime(path, (old, old))
    assert plans.keep("b" * 40, capture) is False
    assert plans.keep("b" * 40, without_beginning) is True  # no beginning to move


def test_pruning_removes_old_plans_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder may be one a user named (even their home): only plans are ever removed."""
    folder = tmp_path / "named-by-a-user"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(plans.ENV_VAR, str(folder))
    month_ago = time.time() - (plans.UNUSED_DAYS + 1) * 86400
    old_plan, new_plan, leftover = (
        folder / ("c" * 40 + ".json"),
        folder / ("d" * 40 + ".json"),
        folder / ("." + "e" * 40 + ".123.tmp"),
    )
    for path in (old_plan, new_plan, leftover, folder / ".bashrc", folder / "notes.json"):
        path.write_text("x")
    for path in (old_plan, leftover, folder / ".bashrc", folder / "notes.json"):
        os.utime(path, (month_ago, month_ago))
    plans._prune(folder, time.time())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [new_plan.name, ".bashrc", "notes.json"]
    )


@pytest.mark.parametrize(
    ("jinja", "reads_the_clock"),
    [
        ("{{ run_started_at.strftime('%Y-%m-%d') }}", True),
        ("{{ modules.datetime.date.today() }}", True),
        ("{{ modules.datetime.datetime.utcnow() }}", True),
        ("{{ modules.time.time() }}", True),
        ("{{ modules.datetime.datetime(1970, 1, 1, tzinfo=modules.pytz.utc) }}", False),
        ("{{ modules.datetime.timedelta(days=1) }}", False),
        ("select now() as loaded_at", False),  # SQL: the warehouse's clock, at run time
    ],
)
def test_only_jinja_that_reads_the_clock_counts_as_reading_it(
    jinja: str, reads_the_clock: bool
) -> None:
    assert bool(plans._CLOCK.search(jinja)) is reads_the_clock

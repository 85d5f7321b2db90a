"""The disk cache of dbt's compiled Jinja templates (etl_session._jinja_cache).

Each check runs in a new Python process, as each etl-run does: the cache patches dbt's Jinja
environment for the whole process, and the suite's own process must keep dbt as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# A loop, a filter, a condition and a variable, rendered as dbt renders SQL.
MACRO = """
{%- set names = ['Started', 'Ended'] -%}
select {% for name in names -%}
    cast({{ name | lower }} as {{ kind }}){{ ', ' if not loop.last }}
{%- endfor %}
"""
EXPECTED = "select cast(started as timestamp), cast(ended as timestamp)"

SCRIPT = """
import json, sys
from etl_session import _jinja_cache
installed = _jinja_cache.install() if sys.argv[1] == 'install' else None
from dbt_common.clients.jinja import get_template
rendered = {}
for name, source, native in json.loads(sys.argv[2]):
    value = get_template(source, {}, native=native).render({'kind': 'timestamp', 'x': 5})
    rendered[name] = [type(value).__name__, value if isinstance(value, (int, str)) else str(value)]
stats = _jinja_cache.stats()
print(json.dumps({'installed': str(installed) if installed else None, 'hits': stats['hits'],
                  'misses': stats['misses'], 'rendered': rendered}))
"""


def render(
    cache: Path | str,
    templates: list[tuple[str, str, bool]],
    install: bool = True,
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "ETL_SESSION_JINJA_CACHE"}
    env["ETL_SESSION_JINJA_CACHE"] = str(cache)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, "install" if install else "-", json.dumps(templates)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_new_process_reuses_the_compiled_template_and_renders_the_same(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "jinja"
    without = render(cache, [("macro", MACRO, False)], install=False)
    first = render(cache, [("macro", MACRO, False)])
    second = render(cache, [("macro", MACRO, False)])
    assert without["rendered"]["macro"] == ["str", EXPECTED]
    assert (first["installed"], first["hits"], first["misses"]) == (str(cache), 0, 1)
    assert (second["hits"], second["misses"]) == (1, 0)
    assert first["rendered"] == second["rendered"] == without["rendered"]
    assert len(list(cache.glob("*.jinja"))) == 1
    assert cache.stat().st_mode & 0o777 == 0o700


def test_a_changed_template_is_compiled_again(tmp_path: Path) -> None:
    cache = tmp_path / "jinja"
    render(cache, [("macro", MACRO, False)])
    changed = render(cache, [("macro", MACRO.replace("lower", "upper"), False)])
    assert (changed["hits"], changed["misses"]) == (0, 1)
    assert changed["rendered"]["macro"] == [
        "str",
        EXPECTED.replace("started", "STARTED").replace("ended", "ENDED"),
    ]


def test_dbts_text_and_native_environments_do_not_share_compiled_code(tmp_path: Path) -> None:
    """dbt renders YAML values with a native environment (`{{ x + 1 }}` is the number 6) and
    SQL with a text one ('6'): the same source compiles differently in each."""
    cache = tmp_path / "jinja"
    source = "{{ x + 1 }}"
    for _ in range(2):
        out = render(cache, [("text", source, False), ("native", source, True)])
        assert out["rendered"] == {"text": ["str", "6"], "native": ["int", 6]}
    assert (out["hits"], out["misses"]) == (2, 0)
    assert len(list(cache.glob("*.jinja"))) == 2


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a cache file at all", "magic"],
    ids=["empty", "garbage", "valid-header-then-garbage"],
)
def test_a_damaged_cache_file_is_compiled_again_and_replaced(
    tmp_path: Path, damage: bytes | str
) -> None:
    cache = tmp_path / "jinja"
    render(cache, [("macro", MACRO, False)])
    [stored] = cache.glob("*.jinja")
    if damage == "magic":
        from jinja2.bccache import bc_magic

        damage = bc_magic + b"\x80\x04garbage"
    assert isinstance(damage, bytes)
    stored.write_bytes(damage)
    again = render(cache, [("macro", MACRO, False)])
    assert again["rendered"]["macro"] == ["str", EXPECTED]
    assert (again["hits"], again["misses"]) == (0, 1)
    after = render(cache, [("macro", MACRO, False)])
    assert (after["hits"], after["misses"]) == (1, 0)


def test_the_cache_is_left_unused_when_off_shared_or_unwritable(tmp_path: Path) -> None:
    """Like a .pyc, a cached template is run as code: a directory other users can write is not
    used. Nor is one that cannot be created. dbt then compiles as it always does."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    caches: list[Path | str] = ["off", shared, blocked / "jinja"]
    for cache in caches:
        out = render(cache, [("macro", MACRO, False)])
        assert out["installed"] is None, cache
        assert out["rendered"]["macro"] == ["str", EXPECTED]
        assert (out["hits"], out["misses"]) == (0, 0)
    assert list(shared.iterdir()) == []


def test_the_default_directory_follows_xdg_cache_home(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ETL_SESSION_JINJA_CACHE"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "from etl_session import _jinja_cache; print(_jinja_cache.install())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == str(tmp_path / "etl-session" / "jinja")


def test_templates_unused_for_30_days_are_removed_once_a_day_and_a_hit_keeps_one(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "jinja"
    render(cache, [("macro", MACRO, False)])
    [used] = cache.glob("*.jinja")
    day = 24 * 3600
    now = used.stat().st_mtime
    old = now - 31 * day
    os.utime(used, (old, old))  # used 31 days ago: the hit below renews it
    render(cache, [("macro", MACRO, False)])
    assert used.stat().st_mtime > old + 30 * day
    stale = cache / "0123.jinja"  # compiled by another version 31 days ago, unused since
    stale.write_bytes(b"x")
    os.utime(stale, (old, old))
    recent = cache / "4567.jinja"  # 29 days ago
    recent.write_bytes(b"x")
    os.utime(recent, (now - 29 * day, now - 29 * day))
    leftover = cache / "89ab.jinjaq1w2e3.tmp"  # a writer that died two days ago
    leftover.write_bytes(b"x")
    os.utime(leftover, (now - 2 * day, now - 2 * day))
    marker = cache / ".pruned"
    os.utime(marker, (now - 2 * day, now - 2 * day))  # the last pruning: two days ago

    render(cache, [("macro", MACRO, False)])
    assert sorted(p.name for p in cache.iterdir()) == sorted([".pruned", used.name, recent.name])
    assert marker.stat().st_mtime > now - day

    stale.write_bytes(b"x")  # the next pruning is a day away: left for now
    os.utime(stale, (old, old))
    render(cache, [("macro", MACRO, False)])
    assert stale.exists()

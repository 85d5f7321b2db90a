"""etl-session coverage end to end: real loads (one failed), the terminal calendar, --json, and the
--html page rendered by a real headless Chromium (its DOM and the colours of its pixels)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from warehouse import BIN, DbtRun, Warehouse

pytestmark = pytest.mark.integration

EVENTS = [
    (1, "2023-01-10 00:00:00", 1.0),
    (2, "2023-02-10 00:00:00", 2.0),
    (3, "2023-03-10 00:00:00", 3.0),
]
FAIL = "{with_failing_post_hook: true}"
GREEN, RED, YELLOW = (0x2E, 0x9D, 0x4F), (0xD2, 0x3C, 0x3C), (0xF0, 0xC4, 0x19)


def etl_session(wh: Warehouse, *args: str) -> DbtRun:
    command = [str(BIN / "etl-session"), "coverage", "--project-dir", str(wh.project_dir), *args]
    proc = subprocess.run(
        command, cwd=wh.workdir, env=wh.env(), capture_output=True, text=True, timeout=600
    )
    return DbtRun(command, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def loaded(duckdb_warehouse: Warehouse) -> Warehouse:
    return load_three_months(duckdb_warehouse)


def load_three_months(wh: Warehouse) -> Warehouse:
    """January loaded, February failed, March loaded; April not yet."""
    wh.insert_events(EVENTS)
    for month, extra in (("2023-01", ()), ("2023-02", ("--vars", FAIL)), ("2023-03", ())):
        run = wh.etl_run("--period", month, "-s", "fct_events", "-q", *extra)
        assert run.returncode == (1 if extra else 0), run.output
    return wh


def test_the_calendar_shows_loaded_failed_and_missing_days(loaded: Warehouse) -> None:
    run = etl_session(loaded, "--until", "2023-04-15")

    assert run.returncode == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == "fct_events  (model.etl_it.fct_events)"
    months = {line[2:9]: line[11:] for line in lines if line.startswith("  2023-")}
    assert months == {
        "2023-01": "█" * 31,
        "2023-02": "X" * 28,
        "2023-03": "█" * 31,
        "2023-04": "·" * 14,
    }
    assert (
        "  loaded 2023-01-01T00:00:00Z → 2023-02-01T00:00:00Z, 2023-03-01T00:00:00Z → "
        "2023-04-01T00:00:00Z; failed 2023-02-01T00:00:00Z → 2023-03-01T00:00:00Z; missing "
        "2023-04-01T00:00:00Z → 2023-04-15T00:00:00Z"
    ) in lines
    assert lines[-1] == (
        "one cell per day in UTC:  █ loaded   X last load failed   > running   · missing"
    )


def test_json_names_the_states_and_the_sessions_whose_rows_are_live(loaded: Warehouse) -> None:
    run = etl_session(loaded, "--until", "2023-04-15", "--json")

    assert run.returncode == 0, run.output
    [model] = json.loads(run.stdout)["models"]
    assert [
        (s["start"][:10], s["end"][:10], s["state"], s["session_id"]) for s in model["segments"]
    ] == [
        ("2023-01-01", "2023-02-01", "loaded", 1),
        ("2023-02-01", "2023-03-01", "failed", 2),
        ("2023-03-01", "2023-04-01", "loaded", 3),
        ("2023-04-01", "2023-04-15", "missing", None),
    ]
    assert model["missing"] == [["2023-04-01T00:00:00Z", "2023-04-15T00:00:00Z"]]


def test_bad_input_is_one_line_exit_2(loaded: Warehouse) -> None:
    for args, fragment in (
        (["--since", "2023-03-01", "--until", "2023-02-01"], "must be after --since"),
        (["--model", "no_such_model"], "is not a period model of the project"),
        (["--since", "March"], "--since must be a date"),
    ):
        run = etl_session(loaded, *args)
        assert run.returncode == 2, run.output
        assert run.stderr.startswith("Error: ") and fragment in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1


def chromium() -> str:
    """Debian's Chromium; installed here when missing and this is root on Debian (a fresh
    machine of this project's kind: `pip install -e ".[test]" && pytest` stays one command)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with open(Path(tempfile.gettempdir()) / "etl-session-chromium.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one installer among the xdist workers
            if not shutil.which("chromium"):
                for command in (["apt-get", "update", "-qq"],
                                ["apt-get", "install", "-y", "-qq", "chromium"]):  # fmt: skip
                    subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium (.ci/run does)")
    return found


def browser(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
    ]  # fmt: skip
    return subprocess.run(
        [chromium(), *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def png_pixels(data: bytes) -> Counter[tuple[int, int, int]]:
    """The RGB colours of an 8-bit RGB or RGBA PNG, counted (a small decoder: no image library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks += body
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(chunks)
    stride = width * size
    previous = bytearray(stride)
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        counts.update(tuple(line[i : i + 3]) for i in range(0, stride, size))  # type: ignore[misc]
        previous = line
    return counts


def test_the_html_page_renders_the_same_calendar_in_a_real_browser(
    loaded: Warehouse, tmp_path: Path
) -> None:
    page = tmp_path / "coverage.html"

    run = etl_session(loaded, "--until", "2023-04-15", "--html", str(page))

    assert run.returncode == 0, run.output
    text = page.read_text()
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing to fetch
    dom = browser("--dump-dom", page.as_uri(), profile=tmp_path / "p1").stdout
    assert dom.count('class="c loaded"') == 62
    assert dom.count('class="c failed"') == 28
    assert dom.count('class="c missing"') == 14
    assert 'title="2023-02-14: last load failed (session 2)"' in dom
    shot = tmp_path / "coverage.png"
    browser(f"--screenshot={shot}", "--window-size=900,400", page.as_uri(), profile=tmp_path / "p2")
    colours = png_pixels(shot.read_bytes())
    near = {
        name: sum(
            n
            for rgb, n in colours.items()
            if all(abs(a - b) <= 6 for a, b in zip(rgb, want, strict=True))
        )
        for name, want in (("loaded", GREEN), ("failed", RED), ("missing", YELLOW))
    }
    # 62 loaded, 28 failed and 14 missing cells of 14x14 pixels, plus one legend swatch each.
    assert near["loaded"] > near["failed"] > near["missing"] > 14 * 14 * 10, near


def test_the_package_model_gives_bi_tools_the_same_stretches(warehouse: Warehouse) -> None:
    loaded = load_three_months(warehouse)
    built = loaded.etl_run("--period", "2023-04-20", "-s", "etl_session_coverage", "-q")
    assert built.returncode == 0, built.output

    rows = loaded.query(
        "select cast(period_start as date), cast(period_end as date), state, session_id,"
        " live_session_id from analytics.etl_session_coverage"
        " where node_id = 'model.etl_it.fct_events' order by period_start"
    )

    assert [(str(a), str(b), state, s, live) for a, b, state, s, live in rows[:3]] == [
        ("2023-01-01", "2023-02-01", "loaded", 1, 1),
        ("2023-02-01", "2023-03-01", "failed", 2, None),
        ("2023-03-01", "2023-04-01", "loaded", 3, 3),
    ]
    [(start, _, state, session, live)] = rows[3:]  # from April up to now: missing
    assert (str(start), state, session, live) == ("2023-04-01", "missing", None, None)

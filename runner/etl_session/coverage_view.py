"""What `etl-session coverage` shows: a calendar per period model, one cell per local day or
week, in the terminal and as a self-contained HTML page.

A cell takes the most urgent state of the stretches that touch it: failed, then running, then
missing, then loaded; a cell no stretch touches is blank. Each state has its own character, so
the picture reads without colour too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from etl_session.coverage import FAILED, LOADED, MISSING, RUNNING, ModelCoverage, Segment

#: Most urgent first: what a cell shows when several states touch it.
URGENCY = (FAILED, RUNNING, MISSING, LOADED)
CHARS = {LOADED: "█", FAILED: "X", RUNNING: ">", MISSING: "·", None: " "}
COLOURS = {LOADED: "green", FAILED: "red", RUNNING: "blue", MISSING: "yellow"}
HEX = {LOADED: "#2e9d4f", FAILED: "#d23c3c", RUNNING: "#3b6fd6", MISSING: "#f0c419"}
LEGEND_TEXT = {
    LOADED: "loaded",
    FAILED: "last load failed",
    RUNNING: "running",
    MISSING: "missing",
}
#: Longer ranges default to one cell per week.
DAY_CELLS_UP_TO = 400


@dataclass(frozen=True)
class Cell:
    first: date
    #: The first day after the cell.
    after: date
    state: str | None
    sessions: tuple[int, ...] = ()


def day_range(models: Sequence[ModelCoverage], zone: str) -> tuple[date, date] | None:
    """The local days the models' stretches touch: (first, after last)."""
    tz = ZoneInfo(zone)
    starts = [s.start for m in models for s in m.segments]
    ends = [s.end for m in models for s in m.segments]
    if not starts:
        return None
    first = min(starts).astimezone(tz).date()
    last = max(ends).astimezone(tz)
    after = last.date() + timedelta(days=1 if last.time() != datetime.min.time() else 0)
    return first, max(after, first + timedelta(days=1))


def cells(
    model: ModelCoverage, first: date, after: date, zone: str, unit: str = "day"
) -> list[Cell]:
    """The model's cells from `first` up to `after` (a week cell starts on a Monday)."""
    tz = ZoneInfo(zone)
    if unit == "week":
        first = first - timedelta(days=first.weekday())
    step = timedelta(days=7 if unit == "week" else 1)
    segments = sorted(model.segments, key=lambda s: s.start)
    out: list[Cell] = []
    lo = 0
    day = first
    while day < after:
        nxt = day + step
        start = _midnight(day, tz)
        end = _midnight(nxt, tz)
        while lo < len(segments) and segments[lo].end <= start:
            lo += 1
        touching: list[Segment] = []
        k = lo
        while k < len(segments) and segments[k].start < end:
            if segments[k].end > start:
                touching.append(segments[k])
            k += 1
        states = {s.state for s in touching}
        state = next((u for u in URGENCY if u in states), None)
        ids = tuple(sorted({s.session_id for s in touching if s.session_id is not None}))
        out.append(Cell(day, nxt, state, ids))
        day = nxt
    return out


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def choose_unit(first: date, after: date, unit: str | None) -> str:
    if unit:
        return unit
    return "day" if (after - first).days <= DAY_CELLS_UP_TO else "week"


def terminal(
    models: Sequence[ModelCoverage],
    first: date,
    after: date,
    zone: str,
    unit: str,
    style: bool,
) -> list[str]:
    """The calendar as lines: per model, one line per month (day cells) or per year (weeks)."""
    import click

    def paint(cell: Cell) -> str:
        char = CHARS[cell.state]
        return click.style(char, fg=COLOURS[cell.state]) if style and cell.state else char

    lines = []
    for model in models:
        lines.append(f"{model.name}  ({model.unique_id})")
        row: list[str] = []
        label = None
        for cell in cells(model, first, after, zone, unit):
            key = cell.first.strftime("%Y-%m") if unit == "day" else str(cell.first.year)
            if key != label:
                if row:
                    lines.append(f"  {label}  " + "".join(row))
                label, row = key, []
                if unit == "day":
                    row.append(" " * (cell.first.day - 1))
            row.append(paint(cell))
        if row:
            lines.append(f"  {label}  " + "".join(row))
        lines.append("  " + summary(model))
        lines.append("")
    legend = "   ".join(
        f"{click.style(CHARS[s], fg=COLOURS[s]) if style else CHARS[s]} {LEGEND_TEXT[s]}"
        for s in (LOADED, FAILED, RUNNING, MISSING)
    )
    per = "day" if unit == "day" else "week (Monday first)"
    lines.append(f"one cell per {per} in {zone}:  {legend}")
    return lines


def summary(model: ModelCoverage) -> str:
    def spans(state: str) -> str:
        found = model.intervals({state})
        if not found:
            return "none"
        shown = ", ".join(f"{p.start_iso} → {p.end_iso}" for p in found[:3])
        return shown + (f" (+{len(found) - 3} more)" if len(found) > 3 else "")

    return f"loaded {spans(LOADED)}; failed {spans(FAILED)}; missing {spans(MISSING)}"


def page(
    models: Sequence[ModelCoverage],
    first: date,
    after: date,
    zone: str,
    unit: str,
    title: str,
) -> str:
    """A self-contained HTML page (no script, no external file) with the same calendar."""
    css = "\n".join(
        [
            "body{font-family:system-ui,sans-serif;margin:24px;color:#222}",
            "h1{font-size:20px}h2{font-size:16px;margin:20px 0 6px}",
            "table{border-collapse:separate;border-spacing:2px}",
            "th{font-weight:normal;text-align:right;padding-right:8px;font-size:12px}",
            "td.c{width:14px;height:14px;background:#e8e8e8;border-radius:2px}",
            *(f"td.{state}{{background:{colour}}}" for state, colour in HEX.items()),
            ".legend span{display:inline-block;margin-right:16px}",
            ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
            "vertical-align:middle;border-radius:2px}",
            "p.sum{font-size:12px;color:#555}",
        ]
    )
    body = [f"<h1>{html.escape(title)}</h1>"]
    legend = "".join(
        f'<span><i style="background:{HEX[s]}"></i>{LEGEND_TEXT[s]}</span>'
        for s in (LOADED, FAILED, RUNNING, MISSING)
    )
    per = "day" if unit == "day" else "week (Monday first)"
    body.append(f'<p class="legend">One cell per {per} in {html.escape(zone)}: {legend}</p>')
    for model in models:
        body.append(
            f'<h2 data-model="{html.escape(model.unique_id)}">{html.escape(model.name)}</h2>'
        )
        body.append("<table>")
        rows: dict[str, list[Cell]] = {}
        for cell in cells(model, first, after, zone, unit):
            key = cell.first.strftime("%Y-%m") if unit == "day" else str(cell.first.year)
            rows.setdefault(key, []).append(cell)
        for key, row in rows.items():
            pad = row[0].first.day - 1 if unit == "day" else 0
            tds = ['<td class="c"></td>'] * pad
            for cell in row:
                state = cell.state or "none"
                tip = f"{cell.first.isoformat()}: {LEGEND_TEXT.get(cell.state or '', 'nothing')}"
                if cell.sessions:
                    tip += " (session " + ", ".join(str(i) for i in cell.sessions) + ")"
                tds.append(f'<td class="c {state}" title="{html.escape(tip)}"></td>')
            body.append(f"<tr><th>{key}</th>{''.join(tds)}</tr>")
        body.append("</table>")
        body.append(f'<p class="sum">{html.escape(summary(model))}</p>')
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )

"""`etl-session coverage`: which periods of which period model are loaded, failed or missing."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from etl_session import coverage as cov
from etl_session import coverage_view as view
from etl_session.errors import EtlSessionError, UsageError
from etl_session.operator import _day, _project_timezone
from etl_session.period import resolve_period
from etl_session.project import default_timezone


@click.command("coverage")
@click.option("--model", "models", multiple=True, help="Only this model (name or unique id).")
@click.option("--source", metavar="LABEL", help="The loads' source. Default: the project name.")
@click.option("--since", metavar="YYYY-MM-DD", help="Show from this local day.")
@click.option(
    "--until",
    metavar="YYYY-MM-DD",
    help="Count as missing what is not loaded before this local day (exclusive). Default: today.",
)
@click.option(
    "--cells",
    type=click.Choice(["day", "week"]),
    help=f"One cell per day or per week. Default: day up to {view.DAY_CELLS_UP_TO} days, "
    "else week.",
)
@click.option(
    "--html",
    "html_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the calendar as a self-contained HTML page.",
)
@click.option("--timezone", "zone", metavar="ZONE", help="Days in this IANA zone.")
@click.option("--utc", is_flag=True, help="Days in UTC.")
@click.option(
    "--project-dir",
    envvar="DBT_PROJECT_DIR",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The dbt project whose loads to read ($DBT_PROJECT_DIR).",
)
@click.option(
    "--profiles-dir",
    envvar="DBT_PROFILES_DIR",
    type=click.Path(file_okay=False),
    help="Folder of profiles.yml ($DBT_PROFILES_DIR).",
)
@click.option("-t", "--target", envvar="DBT_TARGET", help="dbt target to connect to ($DBT_TARGET).")
@click.option("--vars", "vars_", metavar="YAML", help="dbt vars, as a YAML mapping.")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage as JSON on stdout.")
def coverage_command(
    models: tuple[str, ...],
    source: str | None,
    since: str | None,
    until: str | None,
    cells: str | None,
    html_file: str | None,
    zone: str | None,
    utc: bool,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """A calendar of every period model: loaded, last load failed, running, missing.

    Built from the sessions and their per-node results: a model's periods count from its
    etl_period_begin (else its first load) up to --until; the latest load of an instant decides
    its state. Running sessions whose owner is gone are first closed as abandoned."""
    try:
        if utc and zone not in (None, "UTC"):
            raise UsageError(f"--utc and --timezone {zone} contradict each other: give one")
        stated = default_timezone(None, _project_timezone(project_dir))
        shown = "UTC" if utc else default_timezone(zone, _project_timezone(project_dir))
        first = _day(since, "--since")
        last = _day(until, "--until")
        if first is not None and last is not None and last <= first:
            raise UsageError(
                f"--until {last.isoformat()} must be after --since {first.isoformat()}"
            )
        end = resolve_period((last or date.today()).isoformat(), timezone=shown).start
        found = cov.read(
            source=source,
            until=end,
            project_dir=project_dir,
            profiles_dir=profiles_dir,
            target=target,
            vars=vars_,
            timezone=stated,
        )
        chosen = cov.models_matching(found, models)
    except EtlSessionError as exc:
        raise _failure(exc) from None
    for session_id in found.swept:
        click.echo(f"closed running session {session_id} as abandoned: its owner is gone", err=True)
    span = view.day_range(chosen, shown)
    if span is not None:
        lo, hi = span
        lo = max(lo, first) if first else lo
        hi = min(hi, last) if last else hi
        span = (lo, hi) if lo < hi else None
    if html_file is not None:
        title = f"Coverage of {found.source} on {found.target}"
        unit = view.choose_unit(*(span or (date.today(), date.today())), cells)
        page = view.page(chosen if span else (), *(span or _empty()), shown, unit, title)
        Path(html_file).write_text(page, encoding="utf-8")
    if as_json:
        payload = found.as_dict()
        payload["models"] = [m.as_dict() for m in chosen]
        payload["timezone"] = shown
        click.echo(json.dumps(payload, sort_keys=True))
        return
    if not chosen:
        click.echo("no period models in the project (materialized='etl_period' or the strategy)")
        return
    if span is None:
        click.echo(f"nothing loaded yet for {found.source} on {found.target}")
        return
    unit = view.choose_unit(span[0], span[1], cells)
    for line in view.terminal(chosen, span[0], span[1], shown, unit, style=_colour()):
        click.echo(line)


def _empty() -> tuple[date, date]:
    today = date.today()
    return today, today


def _colour() -> bool:
    return sys.stdout.isatty()


def _failure(exc: EtlSessionError) -> click.ClickException:
    """One line, the error's own exit code (2: nothing could be read; 130: interrupted)."""
    failure: click.ClickException = type(
        "Failed", (click.ClickException,), {"exit_code": exc.exit_code}
    )(str(exc))
    return failure


__all__ = ["coverage_command"]

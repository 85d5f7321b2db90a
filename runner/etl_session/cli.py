"""etl-run: load one period with dbt as an ETL session. A thin layer over `etl_session.run`."""

from __future__ import annotations

import json
import math
import signal
import sys
from dataclasses import replace
from typing import Any

import click

from etl_session import __version__
from etl_session._entry import _terminated_while_starting
from etl_session.errors import EtlSessionError, Terminated
from etl_session.session import (
    COMMANDS,
    EXIT_NOTHING_RAN,
    EXIT_TERMINATED,
    RunOptions,
    SessionResult,
    run_with,
)


class NothingRan(click.ClickException):
    """A user's mistake or an unusable environment: one line, no traceback, exit code 2."""

    exit_code = EXIT_NOTHING_RAN


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(
    context_settings=CONTEXT_SETTINGS,
    epilog=(
        "Exit codes: 0 success (or nothing to do); 1 the run failed (session 'error'); "
        "2 nothing could run; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). "
        "Arguments after -- go to dbt verbatim."
    ),
)
@click.option(
    "--period",
    metavar="PERIOD",
    help='The loading period: "[2023-05-01, 2023-05-31]", 2023-05, 2023-Q2, 2023-W18, '
    "A/B, A/P1M, today, last-7-days ... Default: what is missing (see --missing).",
)
@click.option(
    "--split",
    metavar="UNIT",
    help="Load the period as consecutive chunks, one session each: day, week, month (cut at "
    "local calendar boundaries) or an ISO 8601 duration (P3D, PT6H). A rerun skips the chunks "
    "already loaded.",
)
@click.option(
    "--per-run",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="With --split or --missing: load up to N consecutive chunks in one dbt run, still one "
    "session per chunk (each row stamped with its chunk's session). Each model's query then "
    "reads the run's whole period at once (see the README). A failed run loads its chunks again "
    "one at a time.",
)
@click.option(
    "--missing",
    is_flag=True,
    help="Load exactly the missing and failed periods of the selected period models (since "
    "their etl_period_begin, else their first load) up to the start of today. The default "
    "without --period.",
)
@click.option(
    "--until",
    metavar="WHEN",
    help="With --missing: load up to the start of WHEN (a date or date-time) instead of today.",
)
@click.option(
    "--lookback",
    metavar="N<h|d|w|m>",
    help="With --missing: also reload the last N hours/days/weeks/months before the newest "
    "loaded end, for rows that arrive late.",
)
@click.option(
    "--keep-going", is_flag=True, help="Go on with the next chunk when one fails (exit code 1)."
)
@click.option(
    "--reload", is_flag=True, help="With --split: load chunks that are already loaded again."
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="IANA zone for dates and times without an offset. Default: $ETL_SESSION_TIMEZONE, "
    "else the project var etl_session_timezone, else UTC.",
)
@click.option(
    "--run-id",
    envvar="ETL_SESSION_RUN_ID",
    metavar="RUN_ID",
    help="Join the shared session with this run id (etl-session open) instead of opening one "
    "($ETL_SESSION_RUN_ID); its period is the session's.",
)
@click.option(
    "--source",
    metavar="LABEL",
    help="Source label recorded in the session. Default: the dbt project name.",
)
@click.option(
    "--project-dir",
    envvar="DBT_PROJECT_DIR",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The dbt project to load ($DBT_PROJECT_DIR).",
)
@click.option(
    "--profiles-dir",
    envvar="DBT_PROFILES_DIR",
    type=click.Path(file_okay=False),
    help="Folder of profiles.yml ($DBT_PROFILES_DIR). Default: the project folder when it has "
    "one, else dbt's default.",
)
@click.option("-t", "--target", envvar="DBT_TARGET", help="dbt target to load ($DBT_TARGET).")
@click.option("-s", "--select", multiple=True, help="dbt node selection; repeatable.")
@click.option("--exclude", multiple=True, help="dbt nodes to exclude; repeatable.")
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild incremental models (dbt --full-refresh)."
)
@click.option("--threads", type=int, help="dbt threads.")
@click.option("--vars", "vars_", metavar="YAML", help="dbt vars, as a YAML mapping.")
@click.option(
    "--command",
    type=click.Choice(COMMANDS),
    default="build",
    show_default=True,
    help="The dbt command to run.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    is_flag=False,
    flag_value=math.inf,
    default=None,
    metavar="[SECONDS]",
    help="When another load of this project and target is running, queue behind it (up to "
    "SECONDS, or without limit) instead of exiting with code 2.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Resolve the period and print what would run; writes nothing. Without --period it "
    "reads the warehouse to find where the load would continue.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object with the outcome on stdout."
)
@click.option("-q", "--quiet", is_flag=True, help="No dbt log lines, only errors and the summary.")
@click.version_option(__version__, prog_name="etl-run", message="%(prog)s %(version)s")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DBT_ARGS...]")
def cli(
    period: str | None,
    timezone: str | None,
    source: str | None,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    full_refresh: bool,
    threads: int | None,
    vars_: str | None,
    command: str,
    wait: float | None,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
    dbt_args: tuple[str, ...],
    run_id: str | None = None,
    split: str | None = None,
    missing: bool = False,
    until: str | None = None,
    lookback: str | None = None,
    keep_going: bool = False,
    reload: bool = False,
    per_run: int = 1,
) -> None:
    """Load one period with dbt and record it as an ETL session."""
    options = RunOptions(
        period=period,
        project_dir=project_dir,
        profiles_dir=profiles_dir,
        target=target,
        select=select,
        exclude=exclude,
        full_refresh=full_refresh,
        threads=threads,
        vars=vars_,
        command=command,
        dbt_args=dbt_args,
        source=source,
        timezone=timezone,
        quiet=quiet,
        dry_run=dry_run,
        wait=wait,
        logs_to_stderr=as_json,
        run_id=run_id,
    )
    backfilling = any((split, missing, until, lookback, keep_going, reload, per_run != 1))
    if run_id is not None and backfilling:
        message = (
            "--run-id joins one shared session: --split, --missing, --until, --lookback, "
            "--keep-going, --reload and --per-run load many sessions of their own"
        )
        if as_json:
            _print_json({"status": "error", "exit_code": EXIT_NOTHING_RAN, "message": message})
        raise NothingRan(message)
    if run_id is None and (period is None or backfilling):
        _backfill(options, split, missing, until, lookback, keep_going, reload, as_json, per_run)
        return
    try:
        result = run_with(options)
    except EtlSessionError as exc:
        if as_json:
            _print_json({"status": "error", "exit_code": exc.exit_code, "message": str(exc)})
        raise NothingRan(str(exc)) from None
    _report(result, as_json)
    sys.exit(result.exit_code)


def _backfill(
    options: RunOptions,
    split: str | None,
    missing: bool,
    until: str | None,
    lookback: str | None,
    keep_going: bool,
    reload: bool,
    as_json: bool,
    per_run: int = 1,
) -> None:
    from etl_session.backfill import Chunk, Plan, backfill

    bar: Any = None
    fancy = not as_json and not options.dry_run and _terminal()

    def planned(plan: Plan) -> None:
        nonlocal bar
        if fancy and len(plan.chunks) > 1:
            bar = click.progressbar(
                length=len(plan.chunks),
                label=f"loading {len(plan.chunks)} chunks",
                show_eta=True,
                show_pos=True,
                file=sys.stderr,
            )
            bar.__enter__()

    def finished(index: int, chunk: Chunk) -> None:
        line = f"chunk {index + 1} · " + (chunk.result.summary() if chunk.result else chunk.status)
        if bar is not None:
            bar.update(1)
            if chunk.status != "success":
                click.echo("\n" + line, err=True)
        else:
            click.echo(line, err=as_json)

    quiet = replace(options, quiet=True) if fancy else options
    try:
        try:
            result = backfill(
                quiet,
                split=split,
                missing=missing,
                until=until,
                lookback=lookback,
                keep_going=keep_going,
                reload=reload,
                per_run=per_run,
                on_plan=planned,
                on_chunk=finished,
            )
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    except EtlSessionError as exc:
        if as_json:
            _print_json({"status": "error", "exit_code": exc.exit_code, "message": str(exc)})
        raise NothingRan(str(exc)) from None
    except Terminated:
        click.echo("etl-run: terminated by SIGTERM", err=True)
        sys.exit(EXIT_TERMINATED)
    except KeyboardInterrupt:
        click.echo("etl-run: interrupted", err=True)
        sys.exit(130)
    if as_json:
        _print_json(result.as_dict())
    elif result.status in {"up-to-date", "dry-run"}:
        click.echo(result.message)
        for chunk in result.chunks:
            click.echo(f"  {chunk.status:8} {chunk.period}")
    else:
        click.echo(result.summary())
    if result.exit_code != 0 and not as_json:
        click.echo(f"  {result.message}", err=True)
    sys.exit(result.exit_code)


def _terminal() -> bool:
    return sys.stderr.isatty()


def _print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, sort_keys=True))


def _report(result: SessionResult, as_json: bool) -> None:
    if as_json:
        _print_json(result.as_dict())
    human = not as_json
    if result.status in {"dry-run", "up-to-date"}:
        click.echo(result.message, err=as_json)
        return
    click.echo(result.summary(), err=not human)
    if result.exit_code != 0:
        click.echo(f"  {result.message}", err=True)
        for line in result.failures():
            click.echo(line, err=True)


#: SIGTERM before a load started (or after it ended): nothing to close, exit 143 at once. The
#: console script's entry installed the same handler before the imports; while the load runs,
#: etl_session.session handles SIGTERM itself (like Ctrl-C).
_terminated_before_the_load = _terminated_while_starting
_terminated_before_the_load.replaceable_by_etl_session = True  # type: ignore[attr-defined]


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated_before_the_load)
    try:
        cli(prog_name="etl-run")
    finally:
        # The outcome is decided and reported: a late SIGTERM must not turn the exit code into
        # -15 while Python shuts down (it resets Python-level handlers then, not SIG_IGN).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

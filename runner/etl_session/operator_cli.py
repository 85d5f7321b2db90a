"""etl-session: the operators' command line. A thin layer over `etl_session.operator`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from etl_session import __version__
from etl_session import coverage as cov
from etl_session import coverage_view as view
from etl_session import operator as ops
from etl_session.errors import EtlSessionError, UsageError
from etl_session.period import resolve_period
from etl_session.project import default_timezone
from etl_session.results import NodeResult, one_line

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: The columns of `etl-session list`.
LIST_COLUMNS = (
    "id", "source → target", "period", "status", "started", "duration", "ok/error/skipped"
)  # fmt: skip


class NothingChanged(click.ClickException):
    """A user's mistake or an unusable environment: one line, no traceback, exit code 2."""

    exit_code = 2


class OperationFailed(click.ClickException):
    """An operation ran and failed: exit code 1."""

    exit_code = 1


class Interrupted(click.ClickException):
    """Ctrl-C: exit code 130."""

    exit_code = 130


def _fail(exc: EtlSessionError) -> click.ClickException:
    kind = {1: OperationFailed, 130: Interrupted}.get(exc.exit_code, NothingChanged)
    return kind(str(exc))


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def dbt_options(func: F) -> F:
    """The options every subcommand that reaches the warehouse shares, with dbt's names."""
    options = [
        click.option(
            "--project-dir",
            envvar="DBT_PROJECT_DIR",
            default=".",
            show_default=True,
            type=click.Path(file_okay=False),
            help="The dbt project whose sessions to read ($DBT_PROJECT_DIR).",
        ),
        click.option(
            "--profiles-dir",
            envvar="DBT_PROFILES_DIR",
            type=click.Path(file_okay=False),
            help="Folder of profiles.yml ($DBT_PROFILES_DIR). Default: the project folder when "
            "it has one, else dbt's default.",
        ),
        click.option(
            "-t", "--target", envvar="DBT_TARGET", help="dbt target to connect to ($DBT_TARGET)."
        ),
        click.option(
            "--vars",
            "vars_",
            metavar="YAML",
            help="dbt vars, as a YAML mapping (e.g. where the sessions tables live).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def zone_options(func: F) -> F:
    """--timezone / --utc: the zone periods are shown in (default: the one each was stated in)."""
    options = [
        click.option(
            "--timezone",
            "zone",
            metavar="ZONE",
            help="Show periods in this IANA zone. Default: the zone each period was stated in.",
        ),
        click.option("--utc", is_flag=True, help="Show periods in UTC (same as --timezone UTC)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _display_zone(zone: str | None, utc: bool) -> str | None:
    """The zone chosen on the command line, or None for each session's own zone."""
    if utc and zone is not None and zone != "UTC":
        raise NothingChanged(f"--utc and --timezone {zone} contradict each other: give one")
    if utc:
        return "UTC"
    if zone is None:
        return None
    try:
        return ops.check_timezone(zone)
    except EtlSessionError as exc:
        raise _fail(exc) from None


def _period_text(session: ops.SessionRecord, zone: str | None) -> str:
    if session.period is None:
        return "-"
    shown = zone or session.zone
    start = ops.local_iso(session.period_start, shown)
    end = ops.local_iso(session.period_end, shown)
    return f"{start} → {end}"


def _report_swept(swept: Sequence[int]) -> None:
    for session_id in swept:
        click.echo(f"closed running session {session_id} as abandoned: its owner is gone", err=True)


def _connection(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None
) -> dict[str, Any]:
    return {
        "project_dir": project_dir,
        "profiles_dir": profiles_dir,
        "target": target,
        "vars": vars_,
    }


@click.group(
    "etl-session",
    context_settings=CONTEXT_SETTINGS,
    epilog="Exit codes: 0 ok; 1 an operation ran and failed; 2 usage, configuration or "
    "connection error (nothing changed); 130 interrupted.",
)
@click.version_option(__version__, prog_name="etl-session", message="%(prog)s %(version)s")
def cli() -> None:
    """Inspect ETL sessions and clean up after failed loads."""


@cli.command("list")
@click.option(
    "--status",
    type=click.Choice(ops.STATUSES),
    help="Only sessions with this status.",
)
@click.option(
    "--session-target",
    metavar="NAME",
    help="Only sessions recorded for this dbt target (-t is the target to connect to).",
)
@click.option("--since", metavar="DATE", help="Only sessions started on or after this UTC day.")
@click.option("--until", metavar="DATE", help="Only sessions started on or before this UTC day.")
@click.option(
    "--limit",
    type=int,
    default=ops.DEFAULT_LIMIT,
    show_default=True,
    help="At most this many sessions, newest first.",
)
@zone_options
@dbt_options
def list_command(
    status: str | None,
    session_target: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    zone: str | None,
    utc: bool,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """Recent sessions as a table, newest first. Dates are YYYY-MM-DD.

    Running sessions whose owner is known to be gone are first closed as abandoned (error).
    Periods are shown in the zone they were stated in; --json gives them in UTC with
    period_timezone."""
    shown = _display_zone(zone, utc)
    try:
        found = ops.list_sessions(
            status=status,
            target_name=session_target,
            since=since,
            until=until,
            limit=limit,
            **_connection(project_dir, profiles_dir, target, vars_),
        )
    except EtlSessionError as exc:
        raise _fail(exc) from None
    _report_swept(found.swept)
    if as_json:
        _print_json([session.as_dict() for session in found.sessions])
        return
    if not found.table_exists:
        click.echo(f"no sessions yet: {found.table} does not exist")
        return
    if not found.sessions:
        click.echo("no sessions")
        return
    rows = [
        (
            str(session.session_id),
            f"{session.source} → {session.target}",
            _period_text(session, shown),
            session.status,
            _seconds(ops.iso(session.started)),
            _short_duration(session.duration),
            _counts(session.nodes_ok, session.nodes_error, session.nodes_skipped),
        )
        for session in found.sessions
    ]
    for line in _table(LIST_COLUMNS, rows, right=(0,)):
        click.echo(line)


@cli.command("show")
@click.argument("session_id", metavar="ID", type=int)
@zone_options
@dbt_options
def show_command(
    session_id: int,
    zone: str | None,
    utc: bool,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """One session with all its fields, its per-node results and its error message.

    Running sessions whose owner is known to be gone are first closed as abandoned (error).
    The period is shown in the zone it was stated in; --json gives it in UTC with
    period_timezone."""
    shown = _display_zone(zone, utc)
    try:
        detail = ops.show_session(
            session_id, **_connection(project_dir, profiles_dir, target, vars_)
        )
    except EtlSessionError as exc:
        raise _fail(exc) from None
    _report_swept(detail.swept)
    if as_json:
        _print_json(detail.as_dict())
        return
    session = detail.session
    click.echo(f"session {session.session_id} {session.status}")
    fields = session.as_dict()
    fields["period_start"] = ops.local_iso(session.period_start, shown or session.zone)
    fields["period_end"] = ops.local_iso(session.period_end, shown or session.zone)
    fields["duration_seconds"] = _short_duration(session.duration)
    fields["message"] = _message(session.message)
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        label = "duration" if name == "duration_seconds" else name
        click.echo(f"  {label:<{width}}  {'-' if value is None else value}")
    click.echo(f"results ({len(detail.nodes)} nodes)" if detail.nodes else "results: none")
    rows = [_node_row(node) for node in detail.nodes]
    if rows:
        header = ("node", "type", "status", "time", "rows", "message")
        for line in _table(header, rows, right=(3, 4), indent="  "):
            click.echo(line)


@cli.command("open")
@click.option(
    "--period",
    required=True,
    metavar="PERIOD",
    help='The period the session loads, in any form etl-run --period takes: "[2023-05-01, '
    '2023-05-31]", 2023-05, A/B ...',
)
@click.option(
    "--run-id",
    metavar="RUN_ID",
    help="The run id every invocation of the session is given (e.g. the orchestrator's run "
    "id). Default: a new one. Opening a running session's run id again with the same period "
    "returns it.",
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="IANA zone for dates and times without an offset. Default: $ETL_SESSION_TIMEZONE, "
    "else the project var etl_session_timezone, else UTC.",
)
@click.option(
    "--source", metavar="LABEL", help="Source label recorded in the session (default: project)."
)
@dbt_options
def open_command(
    period: str,
    run_id: str | None,
    timezone: str | None,
    source: str | None,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """Open a session that many dbt invocations share, and print its id and run id.

    Every invocation given its run id and period joins it instead of opening its own: plain
    dbt (the environment variables printed, or the vars etl_run_id, etl_period_start,
    etl_period_end, etl_period_timezone), etl-run ($ETL_SESSION_RUN_ID), a Cosmos task. Close
    it with etl-session close RUN_ID: its status is computed from everything that ran. No
    process holds it (liveness 'external'): it is never closed as abandoned, and other loads of
    the project and target are refused while it runs."""
    from etl_session.shared import open_session

    try:
        opened = open_session(
            period,
            run_id=run_id,
            source=source,
            timezone=timezone,
            **_connection(project_dir, profiles_dir, target, vars_),
        )
    except EtlSessionError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(opened.as_dict())
        return
    state = "already running" if opened.reopened else "running"
    click.echo(f"session {opened.session_id} {state} · {opened.period} · run id {opened.run_id}")
    env = " ".join(f"{key}={_shell_word(value)}" for key, value in opened.env().items())
    click.echo(f"  join it:  {env} dbt build")
    click.echo(f"  close it: etl-session close {_shell_word(opened.run_id)}")


@cli.command("close")
@click.argument("session", metavar="ID|RUN_ID")
@click.option(
    "--run-id",
    "by_run_id",
    is_flag=True,
    help="The argument is a run id even if it is a number.",
)
@click.option(
    "--status",
    type=click.Choice(["success", "error"]),
    help="A session opened by etl-session open: 'error' closes it as error whatever ran "
    "(--message says why); 'success' never overrides a failure. Default: computed from "
    "everything that ran in it.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Close it even while its owner may be alive (its lock is held, or it has none).",
)
@click.option(
    "--message",
    metavar="TEXT",
    help="Why, recorded as 'closed by operator: TEXT' (or 'closed as error: TEXT').",
)
@dbt_options
def close_command(
    session: str,
    by_run_id: bool,
    status: str | None,
    force: bool,
    message: str | None,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """Close a running session, by its id (a number) or its run id.

    A session opened by etl-session open is closed with the status of everything that ran in
    it (exit code 0 for success, 1 for error, also when it was already closed).

    Any other session is closed as error by hand (closed_by 'operator'); refused, exit code 2,
    while its owner may still be loading: on Postgres while the load holds its advisory lock,
    or when it has none to tell by (plain dbt) - unless --force. On DuckDB the owner is gone
    (this command holds the file). A closed session is left as it is."""
    by: dict[str, Any]
    if session.isdigit() and not by_run_id:
        by = {"session_id": int(session)}
    else:
        by = {"run_id": session}
    try:
        result = ops.close_session(
            **by,
            status=status,
            force=force,
            message=message,
            **_connection(project_dir, profiles_dir, target, vars_),
        )
    except EtlSessionError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(result.as_dict())
    elif result.closed:
        counts = ""
        if result.external:
            counts = f" ({_counts(result.nodes_ok, result.nodes_error, result.nodes_skipped)})"
        said = f"{result.message}{counts}"
        click.echo(f"session {result.session_id} closed as {result.status}: {said}")
    else:
        click.echo(f"session {result.session_id} is already {result.status}: nothing changed")
    if result.external and result.status != "success":
        sys.exit(1)


@cli.command("cleanup")
@click.argument("session_id", metavar="ID", type=int)
@click.option("--dry-run", is_flag=True, help="Count the rows per model; change nothing.")
@click.option(
    "--yes",
    is_flag=True,
    help="Delete without asking. Required when stdin is not a terminal.",
)
@dbt_options
def cleanup_command(
    session_id: int,
    dry_run: bool,
    yes: bool,
    project_dir: str,
    profiles_dir: str | None,
    target: str | None,
    vars_: str | None,
    as_json: bool,
) -> None:
    """Delete the rows a failed (error) session wrote, in one transaction, and record that on
    the session.

    Only models that stamp session ids (they call etl_session.session_id(), per the project's
    manifest), only rows with this session's id, only in its period when the model has an
    etl_period_column, and only models the session wrote when it recorded their results."""
    connection = _connection(project_dir, profiles_dir, target, vars_)
    ask = not dry_run and not yes
    if ask and not _stdin_is_tty():
        raise NothingChanged(
            "cleanup deletes rows: pass --yes to confirm, or --dry-run to see what it would delete"
        )
    try:
        if ask:
            plan = ops.cleanup_session(session_id, dry_run=True, **connection)
            _report_swept(plan.swept)
            _report_cleanup(plan, err=as_json)
            question = f"Delete {_rows(plan.rows)} of session {session_id}?"
            try:
                confirmed = click.confirm(question, default=False, err=True)
            except click.Abort:
                raise Interrupted("interrupted: nothing deleted") from None
            if not confirmed:
                click.echo("nothing deleted", err=True)
                return
        result = ops.cleanup_session(session_id, dry_run=dry_run, **connection)
    except EtlSessionError as exc:
        raise _fail(exc) from None
    _report_swept(result.swept)
    if as_json:
        _print_json(result.as_dict())
    else:
        _report_cleanup(result)


@cli.command("coverage")
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
@zone_options
@dbt_options
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
    its state. Days are local days of the project's zone unless --timezone/--utc. Running
    sessions whose owner is gone are first closed as abandoned."""
    try:
        stated = default_timezone(None, ops._project_timezone(project_dir))
        shown = _display_zone(zone, utc) or stated
        first = ops._day(since, "--since")
        last = ops._day(until, "--until")
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
            fast=True,
        )
        chosen = cov.models_matching(found, models)
    except EtlSessionError as exc:
        raise _fail(exc) from None
    _report_swept(found.swept)
    span = view.day_range(chosen, shown)
    if span is not None:
        lo, hi = span
        lo = max(lo, first) if first else lo
        hi = min(hi, last) if last else hi
        span = (lo, hi) if lo < hi else None
    if html_file is not None:
        title = f"Coverage of {found.source} on {found.target}"
        unit = view.choose_unit(*(span or (date.today(), date.today())), cells)
        page = view.page(
            chosen if span else (), *(span or (date.today(), date.today())), shown, unit, title
        )
        Path(html_file).write_text(page, encoding="utf-8")
    if as_json:
        payload = found.as_dict(models=chosen)
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
    for line in view.terminal(chosen, span[0], span[1], shown, unit, style=sys.stdout.isatty()):
        click.echo(line)


@cli.command("period")
@click.argument("expr", metavar="EXPR")
@click.option(
    "--timezone",
    metavar="ZONE",
    help="IANA zone for dates and times without an offset. Default: $ETL_SESSION_TIMEZONE, "
    "else the project var etl_session_timezone, else UTC.",
)
@click.option(
    "--project-dir",
    envvar="DBT_PROJECT_DIR",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to read the var etl_session_timezone from, if it is a dbt project "
    "($DBT_PROJECT_DIR). Nothing else is read; no warehouse is needed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def period_command(expr: str, timezone: str | None, project_dir: str, as_json: bool) -> None:
    """Show the period EXPR resolves to, as etl-run --period would load it."""
    try:
        checked = ops.check_period(expr, timezone=timezone, project_dir=project_dir)
    except EtlSessionError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(checked.as_dict())
        return
    click.echo(str(checked.period))
    click.echo(f"  {_describe(checked.period.duration)}, read in {checked.timezone}")


# --- output -----------------------------------------------------------------------------------


def _print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, sort_keys=False))


def _report_cleanup(result: ops.CleanupResult, err: bool = False) -> None:
    verb = "deleted" if result.deleted else "would delete"
    line = f"session {result.session_id} ({result.status}): {verb} {_rows(result.rows)}"
    if not result.models:
        line += ": no model holds rows of it"
    click.echo(line, err=err)
    rows = [(model.relation, _rows(model.rows)) for model in result.models]
    rows += [
        (model.relation or model.node_id, f"skipped: {model.reason}") for model in result.skipped
    ]
    for text in _table(None, rows, right=() if result.skipped else (1,), indent="  "):
        click.echo(text, err=err)
    if result.deleted:
        click.echo(f"  recorded on the session: {result.cleanup}", err=err)


def _node_row(node: NodeResult) -> tuple[str, ...]:
    return (
        node.node_id,
        node.resource_type,
        node.status,
        "-" if node.execution_time is None else f"{node.execution_time:.1f} s",
        "-" if node.rows_affected is None else str(node.rows_affected),
        one_line(node.message, limit=200) if node.message else "",
    )


def _table(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[int] = (),
    indent: str = "",
) -> list[str]:
    """Columns padded to their widest cell; the last column is not padded."""
    lines = [list(header)] if header else []
    lines += [list(row) for row in rows]
    if not lines:
        return []
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for line in lines:
        cells = []
        for i, cell in enumerate(line):
            if i == len(line) - 1 and i not in right:
                cells.append(cell)
            elif i in right:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell.ljust(widths[i]))
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def _shell_word(text: str) -> str:
    """Text as one shell word (quoted only when it needs to be)."""
    import shlex

    return shlex.quote(text)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _seconds(text: str | None) -> str:
    """An ISO instant cut to whole seconds, for a table."""
    if text is None:
        return "-"
    return text.split(".", 1)[0].rstrip("Z") + "Z"


def _counts(ok: int | None, error: int | None, skipped: int | None) -> str:
    if ok is None and error is None and skipped is None:
        return "-"
    return "/".join("-" if n is None else str(n) for n in (ok, error, skipped))


def _message(text: str | None) -> str | None:
    return one_line(text, limit=2000) if text else None


def _short_duration(delta: timedelta | None) -> str:
    """A load's run time: `4.1 s`, `2 min 05 s`, `1 h 02 min`; `-` while it runs."""
    if delta is None:
        return "-"
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _describe(delta: timedelta) -> str:
    """A period's length: `31 days`, `23 hours`, `1 day 12 hours 30 minutes`."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or f"{delta.total_seconds():g} seconds"


def main() -> None:
    cli(prog_name="etl-session")

"""Airflow 3 tasks for ETL sessions (`pip install "dbt-etl-session[airflow]"`).

- `EtlRunOperator` / `load_period(...)`: load one period with dbt as one session; the result
  goes to XCom. The period comes from the DAG run's conf `period` (any form `etl-run --period`
  takes), else from a non-empty data interval, else the task fails naming the fix.
- `OpenSessionOperator` and `CloseSessionOperator`: one session across many tasks (a Cosmos
  `DbtTaskGroup` or `DbtDag` in LOCAL mode runs one dbt invocation per node). Open first;
  give every dbt task `session_env()` as its environment, so each joins the session; close
  last (`trigger_rule='all_done'`): the session's status is computed from everything that ran,
  `error` when any task of the run failed, and then the close task fails the run.

Failures: bad input (a period that is no period, a closed session) raises
`AirflowFailException`, which Airflow does not retry; "another load of this project is
running" raises `AirflowException`, which it retries; a load that ran and failed raises
`AirflowException`.

Importing `etl_session` never imports this module (nor Airflow); this module imports Airflow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator, TriggerRule, get_current_context
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from etl_session.errors import UsageError
from etl_session.results import one_line
from etl_session.session import run
from etl_session.shared import SessionBusy, SharedSession, close_session, open_session

__all__ = [
    "CloseSessionOperator",
    "EtlRunOperator",
    "OpenSessionOperator",
    "PeriodUnknown",
    "add_session_tasks",
    "airflow_run_id",
    "load_period",
    "period_from_context",
    "session_env",
]

#: The task id `OpenSessionOperator` gets by default (and `session_env` pulls from).
OPEN_TASK_ID = "etl_session_open"
#: Task states that make the session `error` when the close task looks at the run.
FAILED_STATES = frozenset({"failed", "upstream_failed"})

TIMETABLE_FIX = (
    'trigger the run with conf {"period": "[2023-05-01, 2023-05-31]"}, or schedule the DAG with '
    'a timetable whose runs cover an interval: schedule=CronDataIntervalTimetable("@daily", '
    'timezone="UTC") (from airflow.sdk), or set [scheduler] create_cron_data_intervals = True '
    "(Airflow 3's default cron timetable and schedule=None give runs an empty data interval)"
)


class PeriodUnknown(UsageError):
    """The DAG run says nothing about the period to load."""


def period_from_context(context: Mapping[str, Any]) -> str:
    """The period of a DAG run, as text `etl-run --period` takes.

    The run's conf `period` first (a string, or a list of two bounds `[start, end]`), else the
    data interval `start/end` (half-open) when it is not empty; else `PeriodUnknown`.
    """
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    given = conf.get("period") if isinstance(conf, Mapping) else None
    if given is not None:
        if isinstance(given, str) and given.strip():
            return given
        if (
            isinstance(given, Sequence)
            and not isinstance(given, str)
            and len(given) == 2
            and all(isinstance(bound, str) for bound in given)
        ):
            return f"[{given[0]}, {given[1]}]"
        raise PeriodUnknown(
            f"the DAG run's conf period is {given!r}: expected text such as "
            '"[2023-05-01, 2023-05-31]" or 2023-05, or a list of two bounds'
        )
    start = context.get("data_interval_start")
    end = context.get("data_interval_end")
    if isinstance(start, datetime) and isinstance(end, datetime):
        if start < end:
            return f"{start.isoformat()}/{end.isoformat()}"
        why = f"its data interval is empty ({start.isoformat()} → {end.isoformat()})"
    else:
        why = "it has no data interval (a manual trigger)"
    raise PeriodUnknown(
        f"the DAG run gives no period: its conf has none and {why}: {TIMETABLE_FIX}"
    )


def airflow_run_id(context: Mapping[str, Any]) -> str:
    """The run id a DAG run's shared session gets: `airflow:<dag_id>:<run_id>`."""
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", "dag")
    return f"airflow:{dag_id}:{context.get('run_id') or getattr(dag_run, 'run_id', '')}"


def _fail_for(exc: Exception) -> BaseException:
    """Bad input is not retried; a busy warehouse is."""
    kind = AirflowException if isinstance(exc, SessionBusy) else AirflowFailException
    failure: BaseException = kind(str(exc))
    return failure


def load_period(
    context: Mapping[str, Any] | None = None,
    *,
    period: str | None = None,
    session: SharedSession | Mapping[str, Any] | None = None,
    **run_options: Any,
) -> dict[str, Any]:
    """Load a period with `etl_session.run(**run_options)` inside an Airflow task and return
    the result as a dict (XCom). The period: `period`, else the DAG run's (see
    `period_from_context`); with `session` (an `OpenSessionOperator`'s XCom), the load joins
    that session and loads its period."""
    context = get_current_context() if context is None else context
    try:
        if session is not None:
            shared = (
                session if isinstance(session, SharedSession) else SharedSession.from_dict(session)
            )
            run_options["run_id"] = shared.run_id
        elif period is None:
            period = period_from_context(context)
        result = run(period, **run_options)
    except UsageError as exc:
        raise AirflowFailException(str(exc)) from None
    if result.ok:
        return result.as_dict()
    if result.busy:
        raise AirflowException(f"another load is running, try again later: {result.message}")
    if result.exit_code == 2:
        raise AirflowFailException(f"nothing ran: {result.message}")
    raise AirflowException(f"{result.summary()}: {one_line(result.message)}")


class EtlRunOperator(BaseOperator):  # type: ignore[misc]
    """Load one period with dbt as one ETL session (`etl-run`); returns the result to XCom.

    `period` (templated) defaults to the DAG run's conf `period`, else its data interval.
    With `session_task_id` (an `OpenSessionOperator`'s task id) the load joins that session
    and loads its period instead. `run_options` takes every other keyword of
    `etl_session.run`: `profiles_dir`, `vars`, `timezone`, `full_refresh`, `threads`, `wait`...
    """

    template_fields: Sequence[str] = ("period", "select", "exclude", "target")

    def __init__(
        self,
        *,
        project_dir: str | os.PathLike[str],
        period: str | None = None,
        select: Sequence[str] | str = (),
        exclude: Sequence[str] | str = (),
        target: str | None = None,
        session_task_id: str | None = None,
        run_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_dir = os.fspath(project_dir)
        self.period = period
        self.select = select
        self.exclude = exclude
        self.target = target
        self.session_task_id = session_task_id
        self.run_options = dict(run_options or {})

    def execute(self, context: Any) -> dict[str, Any]:
        session = None
        if self.session_task_id is not None:
            session = context["ti"].xcom_pull(task_ids=self.session_task_id)
            if not isinstance(session, Mapping):
                raise AirflowFailException(
                    f"no session to join: task {self.session_task_id} did not open one"
                )
        return load_period(
            context,
            period=self.period or None,
            session=session,
            project_dir=self.project_dir,
            select=self.select,
            exclude=self.exclude,
            target=self.target,
            **self.run_options,
        )


class OpenSessionOperator(BaseOperator):  # type: ignore[misc]
    """Open the session a DAG run's dbt tasks share; returns it to XCom (`SharedSession`).

    Its run id is `airflow:<dag_id>:<run_id>` (a retried open returns the same session); the
    period is `period` (templated), else the run's conf `period`, else its data interval.
    """

    template_fields: Sequence[str] = ("period", "target")

    def __init__(
        self,
        *,
        project_dir: str | os.PathLike[str],
        period: str | None = None,
        timezone: str | None = None,
        source: str | None = None,
        profiles_dir: str | os.PathLike[str] | None = None,
        target: str | None = None,
        vars: str | Mapping[str, Any] | None = None,
        task_id: str = OPEN_TASK_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        self.project_dir = os.fspath(project_dir)
        self.period = period
        self.timezone = timezone
        self.source = source
        self.profiles_dir = None if profiles_dir is None else os.fspath(profiles_dir)
        self.target = target
        self.vars = vars

    def execute(self, context: Any) -> dict[str, Any]:
        try:
            opened = open_session(
                self.period or period_from_context(context),
                run_id=airflow_run_id(context),
                timezone=self.timezone,
                source=self.source,
                project_dir=self.project_dir,
                profiles_dir=self.profiles_dir,
                target=self.target,
                vars=self.vars,
            )
        except UsageError as exc:
            raise _fail_for(exc) from None
        self.log.info(
            "session %s running · %s · run id %s", opened.session_id, opened.period, opened.run_id
        )
        return opened.as_dict()


class CloseSessionOperator(BaseOperator):  # type: ignore[misc]
    """Close the DAG run's shared session; runs whatever happened upstream (`all_done`).

    The status is computed from everything that ran in the session; when any task of the run
    failed (or could not run because an upstream failed), the session is closed as `error`
    naming those tasks. A session that ends `error` fails this task, and so the run.
    """

    def __init__(
        self,
        *,
        project_dir: str | os.PathLike[str],
        open_task_id: str = OPEN_TASK_ID,
        profiles_dir: str | os.PathLike[str] | None = None,
        target: str | None = None,
        vars: str | Mapping[str, Any] | None = None,
        task_id: str = "etl_session_close",
        trigger_rule: str = TriggerRule.ALL_DONE,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, trigger_rule=trigger_rule, **kwargs)
        self.project_dir = os.fspath(project_dir)
        self.open_task_id = open_task_id
        self.profiles_dir = None if profiles_dir is None else os.fspath(profiles_dir)
        self.target = target
        self.vars = vars

    def execute(self, context: Any) -> dict[str, Any]:
        opened = context["ti"].xcom_pull(task_ids=self.open_task_id)
        if not isinstance(opened, Mapping):
            raise AirflowFailException(
                f"no session to close: task {self.open_task_id} did not open one"
            )
        failed = self._failed_tasks(context)
        try:
            closed = close_session(
                SharedSession.from_dict(opened),
                status="error" if failed else None,
                message=f"failed tasks: {', '.join(failed)}" if failed else None,
                project_dir=self.project_dir,
                profiles_dir=self.profiles_dir,
                target=self.target,
                vars=self.vars,
            )
        except UsageError as exc:
            raise _fail_for(exc) from None
        if closed.status != "success":
            raise AirflowFailException(
                f"session {closed.session_id} ended {closed.status}: {closed.message}"
            )
        self.log.info(
            "session %s closed as %s: %s", closed.session_id, closed.status, closed.message
        )
        return closed.as_dict()

    def _failed_tasks(self, context: Any) -> list[str]:
        """The tasks of this DAG run that failed or were not run because an upstream failed."""
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        run_id = context["run_id"]
        states = RuntimeTaskInstance.get_task_states(dag_id=context["dag"].dag_id, run_ids=[run_id])
        by_task = states.get(run_id, {}) if isinstance(states, Mapping) else {}
        return sorted(
            str(task_id)
            for task_id, state in by_task.items()
            if task_id != self.task_id and str(getattr(state, "value", state)) in FAILED_STATES
        )


def session_env(open_task_id: str = OPEN_TASK_ID) -> dict[str, str]:
    """The environment (Jinja templates pulling the open task's XCom) that makes a dbt task
    join the DAG run's session: give it to Cosmos as `operator_args={"env": session_env()}`,
    or to any operator whose `env` is templated."""
    pull = f"ti.xcom_pull(task_ids='{open_task_id}')"
    return {
        name: "{{ " + pull + "['env']['" + name + "'] }}"
        for name in (
            "ETL_SESSION_RUN_ID",
            "ETL_SESSION_PERIOD_START",
            "ETL_SESSION_PERIOD_END",
            "ETL_SESSION_PERIOD_TIMEZONE",
        )
    }


def add_session_tasks(
    dag: Any, *, project_dir: str | os.PathLike[str], **open_options: Any
) -> tuple[OpenSessionOperator, CloseSessionOperator]:
    """Put a whole DAG (a Cosmos `DbtDag`, say) under one session: an `OpenSessionOperator`
    upstream of its first tasks and a `CloseSessionOperator` downstream of its last ones.
    `open_options` go to the open task (`period`, `timezone`, `source`, `profiles_dir`,
    `target`, `vars`); the close task gets the same connection. Give the dbt tasks
    `session_env()` as their environment."""
    tasks = list(dag.tasks)
    first = [task for task in tasks if not task.upstream_list]
    last = [task for task in tasks if not task.downstream_list]
    connection = {
        key: open_options[key] for key in ("profiles_dir", "target", "vars") if key in open_options
    }
    opened = OpenSessionOperator(dag=dag, project_dir=project_dir, **open_options)
    closed = CloseSessionOperator(dag=dag, project_dir=project_dir, **connection)
    for task in first:
        opened >> task
    for task in last:
        task >> closed
    return opened, closed

"""The DAGs the Airflow tests run with dag.test(), loading examples/shop (copies of it).

Written as a user would; each is the README's recipe."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, CronDataIntervalTimetable

from etl_session.airflow import CloseSessionOperator, EtlRunOperator, OpenSessionOperator

PROJECT = os.environ["SHOP_PROJECT"]
BROKEN = os.environ["SHOP_BROKEN_PROJECT"]
START = datetime(2023, 1, 1, tzinfo=timezone.utc)

# One task loads the period: the DAG run's conf {"period": ...}. Retried (at once, for the
# test) when another load is running; bad input fails without a retry.
with DAG("shop_conf", schedule=None, start_date=START, catchup=False) as shop_conf:
    EtlRunOperator(
        task_id="load", project_dir=PROJECT, run_options={"quiet": True},
        retries=2, retry_delay=timedelta(seconds=0),
    )  # fmt: skip

# The same, scheduled monthly: each run loads its data interval (the month before it).
with DAG(
    "shop_interval",
    schedule=CronDataIntervalTimetable("@monthly", timezone="UTC"),
    start_date=START,
    catchup=False,
) as shop_interval:
    EtlRunOperator(task_id="load", project_dir=PROJECT, run_options={"quiet": True})

# A project with a failing model: the session ends error, the task and the run fail.
with DAG("shop_broken", schedule=None, start_date=START, catchup=False) as shop_broken:
    EtlRunOperator(task_id="load", project_dir=BROKEN, run_options={"quiet": True}, retries=0)

# One session across several dbt tasks: open, load the seeds, load the models, close.
with DAG("shop_shared", schedule=None, start_date=START, catchup=False) as shop_shared:
    opened = OpenSessionOperator(project_dir=PROJECT)
    seeds = EtlRunOperator(
        task_id="seeds", project_dir=PROJECT, select=["path:seeds"],
        session_task_id="etl_session_open", run_options={"quiet": True},
    )  # fmt: skip
    models = EtlRunOperator(
        task_id="models", project_dir=PROJECT, exclude=["path:seeds"],
        session_task_id="etl_session_open", run_options={"quiet": True},
    )  # fmt: skip
    closed = CloseSessionOperator(project_dir=PROJECT)
    opened >> seeds >> models >> closed

# The same with a failing model in the models task: the close fails the run.
with DAG(
    "shop_shared_broken", schedule=None, start_date=START, catchup=False
) as shop_shared_broken:
    opened = OpenSessionOperator(project_dir=BROKEN)
    seeds = EtlRunOperator(
        task_id="seeds", project_dir=BROKEN, select=["path:seeds"],
        session_task_id="etl_session_open", run_options={"quiet": True},
    )  # fmt: skip
    models = EtlRunOperator(
        task_id="models", project_dir=BROKEN, exclude=["path:seeds"],
        session_task_id="etl_session_open", run_options={"quiet": True}, retries=0,
    )  # fmt: skip
    closed = CloseSessionOperator(project_dir=BROKEN)
    opened >> seeds >> models >> closed

"""A Cosmos DbtDag in LOCAL mode over examples/shop (a copy): one task per dbt node, all of
them under one ETL session. The README's recipe."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode

from etl_session.airflow import add_session_tasks, session_env

PROJECT = Path(os.environ["SHOP_PROJECT"])

shop_cosmos = DbtDag(
    dag_id="shop_cosmos",
    project_config=ProjectConfig(PROJECT, install_dbt_deps=False),
    profile_config=ProfileConfig(
        profile_name="shop", target_name="duckdb", profiles_yml_filepath=PROJECT / "profiles.yml"
    ),
    execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL),
    # A test of two models (a relationship) runs after both, in a task of its own.
    render_config=RenderConfig(should_detach_multiple_parents_tests=True),
    # Every dbt task joins the DAG run's session (its run id and period, from the open task).
    operator_args={"env": session_env()},
    schedule=None,
    start_date=datetime(2023, 1, 1, tzinfo=timezone.utc),
    catchup=False,
)
add_session_tasks(shop_cosmos, project_dir=PROJECT)

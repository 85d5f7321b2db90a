"""The Delta and Iceberg variants of the period replacement: no jars here to run them, so their
compiled SQL is checked, and Spark's analyzer must get past parsing them (on parquet tables it
then refuses the row-level operation, which proves the statement was understood)."""

from __future__ import annotations

import re

import pytest
from conftest import SparkProject

PERIOD = '{etl_period_start: "2023-05-01T00:00:00Z", etl_period_end: "2023-05-03T00:00:00Z"}'
PREDICATE = (
    "(event_time >= cast('2023-05-01 00:00:00+00:00' as timestamp)"
    " and event_time < cast('2023-05-03 00:00:00+00:00' as timestamp))"
)


def _compiled(project: SparkProject, variant: str, file_format: str | None) -> str:
    args = f"{{variant: {variant}, file_format: {file_format or 'null'}}}"
    shown = project.dbt(
        "run-operation", "show_replace_period_sql", "--args", args, "--vars", PERIOD
    )
    assert shown.returncode == 0, shown.output
    found = re.search(r"REPLACE_SQL<<(.*?)>>", shown.output, re.S)
    assert found, shown.output
    return " ".join(found.group(1).split())


def test_delta_and_iceberg_variants(project: SparkProject) -> None:
    schema = project.schema
    source = f"select session_id, event_time, amount from {schema}.source"
    delta = (
        f"insert into {schema}.target replace where {PREDICATE}"
        f" select `session_id`, `event_time`, `amount` from ( {source} ) as etl_period_source"
        f" where {PREDICATE}"
    )
    iceberg = (
        f"delete from {schema}.target where {PREDICATE};"
        f" insert into {schema}.target (`session_id`, `event_time`, `amount`)"
        f" select `session_id`, `event_time`, `amount` from ( {source} ) as etl_period_source"
        f" where {PREDICATE}"
    )
    assert _compiled(project, "spark", "delta") == delta
    assert _compiled(project, "spark", "iceberg") == iceberg
    # Databricks: Delta unless the model says otherwise.
    assert _compiled(project, "databricks", None) == delta
    assert _compiled(project, "databricks", "iceberg") == iceberg

    project.execute(
        f"create schema if not exists {schema}",
        f"create table {schema}.target (session_id bigint, event_time timestamp, amount double)"
        " using parquet",
        f"create table {schema}.source (session_id bigint, event_time timestamp, amount double)"
        " using parquet",
    )
    for statement in [delta, *iceberg.split("; ")]:
        if statement.startswith("insert into") and "replace where" not in statement:
            project.execute(statement)  # a plain insert: runs
            continue
        with pytest.raises(Exception, match=r"UNSUPPORTED_FEATURE\.TABLE_OPERATION"):
            project.execute(statement)

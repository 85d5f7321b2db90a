"""Materialize examples/shop (a copy) with Dagster: `@dbt_assets` partitioned by month, under
one ETL session per run, for two months and the first month again; then an op of a partitioned
job. Prints one `RESULT {json}` line per run: success, the Dagster run id, and the etl_session
metadata of each materialization (or of the op's output).

Then the same assets of a project with a failing model: the session ends error, the run fails.

Usage: run_dagster.py PROJECT_DIR BROKEN_PROJECT_DIR"""

import json
import sys
from typing import Any

from dagster import (
    AssetExecutionContext,
    MonthlyPartitionsDefinition,
    OpExecutionContext,
    job,
    materialize,
    op,
)
from dagster_dbt import DbtCliResource, dbt_assets

from etl_session.dagster import dbt_build_in_session, load_period

PROJECT = sys.argv[1]
BROKEN = sys.argv[2]
MONTHLY = MonthlyPartitionsDefinition(start_date="2023-01-01")

# dagster-dbt reads the project's manifest: dbt parse writes it.
MANIFEST = DbtCliResource(project_dir=PROJECT).cli(["parse"]).wait().target_path / "manifest.json"


@dbt_assets(manifest=MANIFEST, partitions_def=MONTHLY)
def shop(context: AssetExecutionContext, dbt: DbtCliResource) -> Any:
    yield from dbt_build_in_session(context, dbt, ["build"], project_dir=PROJECT)


BROKEN_MANIFEST = (
    DbtCliResource(project_dir=BROKEN).cli(["parse"]).wait().target_path / "manifest.json"
)


@dbt_assets(manifest=BROKEN_MANIFEST, partitions_def=MONTHLY)
def shop_broken(context: AssetExecutionContext, dbt: DbtCliResource) -> Any:
    yield from dbt_build_in_session(context, dbt, ["build"], project_dir=BROKEN)


@op
def load(context: OpExecutionContext) -> dict[str, Any]:
    return load_period(context, project_dir=PROJECT, select="fct_orders", quiet=True)


@job(partitions_def=MONTHLY)
def shop_job() -> None:
    load()


def plain(value: Any) -> Any:
    return getattr(value, "value", getattr(value, "text", value))


for partition in ["2023-05-01", "2023-06-01", "2023-05-01"]:
    result = materialize(
        [shop],
        partition_key=partition,
        resources={"dbt": DbtCliResource(project_dir=PROJECT)},
        raise_on_error=False,
    )
    metadata = {
        "/".join(m.asset_key.path): {
            key: plain(value) for key, value in m.metadata.items() if key.startswith("etl_")
        }
        for m in result.asset_materializations_for_node("shop")
    }
    found = {"kind": "assets", "partition": partition, "success": result.success}
    found.update({"run_id": result.run_id, "materializations": metadata})
    print("RESULT " + json.dumps(found), flush=True)

result = shop_job.execute_in_process(partition_key="2023-07-01", raise_on_error=False)
outputs = [
    event.event_specific_data.metadata
    for event in result.all_node_events
    if event.event_type_value == "STEP_OUTPUT"
]
found = {"kind": "op", "partition": "2023-07-01", "success": result.success}
found["run_id"] = result.run_id
found["metadata"] = {k: plain(v) for k, v in outputs[0].items()} if outputs else None
found["value"] = result.output_for_node("load") if result.success else None
print("RESULT " + json.dumps(found, default=str), flush=True)

result = materialize(
    [shop_broken],
    partition_key="2023-08-01",
    resources={"dbt": DbtCliResource(project_dir=BROKEN)},
    raise_on_error=False,
)
found = {"kind": "broken", "partition": "2023-08-01", "success": result.success}
found["run_id"] = result.run_id
print("RESULT " + json.dumps(found, default=str), flush=True)

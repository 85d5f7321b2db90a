"""Run DAGs of a DAG folder with dag.test(), each with its own DuckDB file; print one
`RESULT {json}` line per run: the run's state, its tasks' states and their XComs.

Usage: run_airflow.py DAG_FILE '[{"dag": "shop_conf", "duckdb": "/x.duckdb", "conf": {...},
"logical_date": "2023-06-01T00:00:00+00:00"}, ...]'"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from datetime import datetime


def main() -> None:
    dag_file, scenarios = sys.argv[1], json.loads(sys.argv[2])
    spec = importlib.util.spec_from_file_location("etl_session_test_dags", dag_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    for scenario in scenarios:
        os.environ["SHOP_DUCKDB_PATH"] = scenario["duckdb"]
        dag = getattr(module, scenario["dag"])
        options = {}
        if "conf" in scenario:
            options["run_conf"] = scenario["conf"]
        if "logical_date" in scenario:
            options["logical_date"] = datetime.fromisoformat(scenario["logical_date"])
        if scenario.get("open_first"):
            from etl_session import open_session

            open_session("2023-01", run_id="someone-else", project_dir=os.environ["SHOP_PROJECT"])
        started = time.monotonic()
        run = dag.test(**options)
        with create_session() as session:
            rows = session.query(XComModel).filter(
                XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id
            )
            xcom = {row.task_id: row.value for row in rows}
        tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        tries = {ti.task_id: ti.try_number for ti in run.get_task_instances()}
        result = {
            "dag": dag.dag_id,
            "run_id": run.run_id,
            "state": str(run.state),
            "tasks": tasks,
            "tries": tries,
            "xcom": xcom,
            "seconds": round(time.monotonic() - started, 1),
        }
        print("RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()

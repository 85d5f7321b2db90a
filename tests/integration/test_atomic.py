"""A period model's delete, insert and hooks commit together or not at all (issue 9).

Before: session_id() looked its id up on the model's own connection while the model compiled,
and that lookup sent a COMMIT; on Postgres the delete and the insert then autocommitted one by
one, so a failing post-hook kept the rejected rows and the earlier session's rows were gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from warehouse import Warehouse

pytestmark = pytest.mark.integration

MAY = ("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z")
EVENTS = [(1, "2023-05-02 10:00:00", 1.0), (2, "2023-05-20 10:00:00", 2.0)]


def facts(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query("select session_id, id, amount from analytics.fct_events order by id")


def test_a_failing_post_hook_leaves_the_earlier_sessions_rows_intact(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)
    warehouse.dbt("build", period=MAY)
    before = facts(warehouse)
    assert [row[1] for row in before] == [1, 2]
    # the source changes: a reload would replace both rows and add a third
    warehouse.execute("update raw.events set amount = amount * 10")
    warehouse.insert_events([(3, "2023-05-25 10:00:00", 3.0)])

    run = warehouse.dbt(
        "build", "--vars", "{with_failing_post_hook: true}", period=MAY, check=False
    )

    assert run.returncode == 1
    assert "no_such_table_in_a_post_hook" in run.output
    assert facts(warehouse) == before  # the delete and the insert were rolled back together
    statuses = warehouse.query("select status from analytics.etl_sessions order by session_id")
    assert statuses == [("success",), ("error",)]


def test_compiling_a_model_sends_no_statement_that_commits(warehouse: Warehouse) -> None:
    warehouse.insert_events(EVENTS)

    run = warehouse.dbt(
        "build", "-s", "+fct_events", "--log-format", "json", "--log-level", "debug", period=MAY
    )

    events = [
        event
        for event in run.events()
        if (event["data"].get("node_info") or {}).get("unique_id") == "model.etl_it.fct_events"
    ]
    statements = [e["data"]["sql"] for e in events if e["info"]["name"] == "SQLQuery"]
    commits = [e for e in events if e["info"]["name"] == "SQLCommit"]
    assert statements, "dbt reported no statement for the model"
    # the session id is read inside the model's own statements, never by a lookup of its own
    assert all("fct_events" in sql for sql in statements if "etl_sessions" in sql), statements
    # ...and the model's work is committed once, at its end
    assert len(commits) == 1, [e["data"] for e in commits]

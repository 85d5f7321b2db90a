"""Hostile strings reach the sessions table verbatim and never break or inject SQL."""

from __future__ import annotations

import json

import pytest

from warehouse import Warehouse

pytestmark = pytest.mark.integration

HOSTILE = (
    "o'brien\"; drop table analytics.etl_sessions; --\n"
    "line two\t\\ backslash $$ dollar $tag$ {{ jinja }} {% raw %} é ✓ 🦆\r\n"
) * 90  # about 10.8 KB


def test_a_hostile_source_label_is_stored_verbatim(warehouse: Warehouse) -> None:
    assert len(HOSTILE.encode()) > 10_000

    run = warehouse.etl_run("--period", "2023-05", "--source", HOSTILE, "-q")

    assert run.returncode == 0, run.output
    [(source, status)] = warehouse.query("select source, status from analytics.etl_sessions")
    assert source == HOSTILE
    assert status == "success"


def test_a_hostile_error_message_is_stored_verbatim(warehouse: Warehouse) -> None:
    text = "x'); delete from analytics.etl_sessions; --"
    run = warehouse.etl_run(
        "--period", "2023-05", "--vars", json.dumps({"hostile_text": text}), "-q"
    )

    assert run.returncode == 1, run.output
    [(status, message)] = warehouse.query("select status, message from analytics.etl_sessions")
    assert status == "error"
    assert "model.etl_it.hostile" in message
    [(node_message,)] = warehouse.query(
        "select message from analytics.etl_session_results where node_id = ?",
        ["model.etl_it.hostile"],
    )
    assert text in node_message

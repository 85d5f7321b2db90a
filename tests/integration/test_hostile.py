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


@pytest.mark.parametrize("runner", ["etl-run", "dbt"])
def test_terminal_escape_codes_in_an_error_are_stored_as_plain_text(
    warehouse: Warehouse, runner: str
) -> None:
    # The database echoes the bad value in its error: colour (CSI), a window title (OSC) and a
    # two-character escape must not reach the sessions table, nor a terminal reading it.
    escapes = "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1bc"
    vars_text = json.dumps({"hostile_text": escapes})
    if runner == "etl-run":
        run = warehouse.etl_run("--period", "2023-05", "--vars", vars_text, "-q")
    else:
        run = warehouse.dbt(
            "--use-colors", "build", "--vars", vars_text,
            period=("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"), check=False,
        )  # fmt: skip

    assert run.returncode != 0, run.output
    [(status, message)] = warehouse.query("select status, message from analytics.etl_sessions")
    node_messages = warehouse.query("select message from analytics.etl_session_results")
    assert status == "error"
    assert "model.etl_it.hostile" in message
    stored = [message, *(row[0] for row in node_messages if row[0])]
    assert not [text for text in stored if "\x1b" in text or "\x07" in text], stored
    # The text around the sequences stays; an OSC's payload (the title) is part of it.
    assert any("red  " in text and "title" not in text for text in stored), stored

"""Fixtures of the orchestrator tests (helpers in orchestrator_venvs.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from orchestrator_venvs import build_venv


@pytest.fixture(scope="session")
def orchestrator_python() -> Callable[[str], Path]:
    """`orchestrator_python("airflow")`: the Python of that environment (built on first use)."""
    return build_venv

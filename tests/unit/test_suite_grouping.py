"""The suite's own set-up: pytest-xdist keeps each `xdist_group` on one worker (one Spark
server per run, each orchestrator run once). pytest 9.2 silently broke that with pytest-xdist
3.8: the group never reached the node id, so every group was split over both workers."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("grouping_check")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only meaningful on a pytest-xdist worker under --dist loadgroup")
    assert request.node.nodeid.endswith("@grouping_check"), (
        f"{request.node.nodeid}: pytest-xdist could not add the group to the node id, so "
        "groups are split over workers; install the pytest pyproject.toml pins"
    )

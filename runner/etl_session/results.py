"""From dbt's node results to a session outcome. Pure: imports neither click nor dbt.

The one module that imports dbt turns dbt's result objects into `NodeResult` values at the
boundary; everything here works on those frozen values only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Node statuses that count as a good outcome (DESIGN.md, "Status").
OK_STATUSES = frozenset({"success", "pass", "warn", "no-op", "no op", "reused"})
SKIPPED_STATUSES = frozenset({"skipped"})

SUCCESS = "success"
ERROR = "error"


@dataclass(frozen=True)
class NodeResult:
    """One node's result, as dbt reported it."""

    node_id: str
    resource_type: str
    status: str
    message: str | None = None
    execution_time: float | None = None
    rows_affected: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def skipped(self) -> bool:
        return self.status in SKIPPED_STATUSES

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped

    def as_dict(self) -> dict[str, object]:
        return {
            "node_id": self.node_id,
            "resource_type": self.resource_type,
            "status": self.status,
            "message": self.message,
            "execution_time": self.execution_time,
            "rows_affected": self.rows_affected,
        }


@dataclass(frozen=True)
class SessionOutcome:
    """What a run of nodes means for its session: final status, counts and why."""

    status: str
    message: str
    ok: int
    error: int
    skipped: int

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCESS


#: Terminal control sequences (dbt colours its error messages): CSI `ESC [ ... m`, OSC
#: `ESC ] ... BEL/ST`, and any other two-character escape.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-~])?|\x07")


def plain(text: str | None) -> str | None:
    """`text` without terminal colour codes: messages are stored and printed as plain text."""
    return None if text is None else _ANSI.sub("", text)


def one_line(text: str | None, limit: int = 500) -> str:
    """Plain text on one line: colour codes removed, whitespace collapsed, cut to `limit`."""
    collapsed = " ".join((plain(text) or "").split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…"


def outcome_of(nodes: Iterable[NodeResult]) -> SessionOutcome:
    """DESIGN.md's mapping: success only when every node that ran ended well.

    Any error, fail, runtime error, partial success or skipped node makes the session `error`;
    the message names the first failed node and its error. The package's close_session() macro
    applies the same mapping inside dbt.
    """
    results = list(nodes)
    ok = sum(1 for node in results if node.ok)
    skipped = sum(1 for node in results if node.skipped)
    failed = [node for node in results if node.failed]
    if failed:
        first = failed[0]
        message = (
            f"{len(failed)} failed, {skipped} skipped; first: {first.node_id} ({first.status}): "
            f"{one_line(first.message or first.status)}"
        )
        return SessionOutcome(ERROR, message, ok, len(failed), skipped)
    if skipped:
        return SessionOutcome(ERROR, f"{skipped} skipped", ok, 0, skipped)
    return SessionOutcome(SUCCESS, f"{ok} ok", ok, 0, 0)


def aborted(reason: str, nodes: Sequence[NodeResult] = ()) -> SessionOutcome:
    """The outcome of a run that dbt could not finish (interrupted, crashed, hook failed)."""
    counted = outcome_of(nodes)
    return SessionOutcome(ERROR, one_line(reason), counted.ok, counted.error, counted.skipped)

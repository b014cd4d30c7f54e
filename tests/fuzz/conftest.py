"""The fuzz budget fixture, and a summary of executions and corpus size at the end of the session.

Set ``ZIGMUND_FUZZ_REPORT=path.json`` to also write the figures as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

from .budget import FuzzStats, total_budget

FUZZ_REPORT_ENV = "ZIGMUND_FUZZ_REPORT"
_STATS = pytest.StashKey[list[FuzzStats]]()


@pytest.fixture(scope="session")
def fuzz_stats(pytestconfig: pytest.Config) -> Callable[[str], FuzzStats]:
    """``fuzz_stats(name)`` makes the stats record of one fuzz test, reported at the end of the session."""
    records = pytestconfig.stash.setdefault(_STATS, [])

    def make(name: str) -> FuzzStats:
        stats = FuzzStats(name)
        records.append(stats)
        return stats

    return make


@pytest.fixture(scope="session")
def fuzz_seconds() -> float:
    """The whole fuzz suite's wall-clock budget (``ZIGMUND_FUZZ_SECONDS``)."""
    return total_budget()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    records = config.stash.get(_STATS, [])
    if not records:
        return
    terminalreporter.section("fuzz")
    for stats in records:
        figures = stats.as_dict()
        terminalreporter.write_line(
            f"{stats.name}: {figures['executions']} executions, corpus {figures['corpus']} distinct inputs, "
            f"{figures['seconds']} s of {figures['budget_seconds']} s, {figures['hypothesis_runs']} hypothesis runs"
        )
    total = sum(stats.executions for stats in records)
    corpus = sum(len(stats.distinct) for stats in records)
    terminalreporter.write_line(f"fuzz total: {total} executions, corpus {corpus} distinct inputs")
    path = os.environ.get(FUZZ_REPORT_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"tests": [stats.as_dict() for stats in records], "executions": total, "corpus": corpus},
                      out, indent=2)

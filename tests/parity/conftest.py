"""Parity ports: helpers get pytest's assert rewriting; known gaps are strict xfails, listed here.

Every example was checked against FastAPI 0.165 itself (README.md). A test that fails because
zigmund_fast does not yet behave like FastAPI there is marked ``xfail(strict=True)`` in this one place,
with the gap named, so that the suite stays a true signal: a gap that gets fixed turns its test into an
unexpected pass, which fails the run until the entry is removed here. The tests themselves assert
FastAPI's answers, unchanged. None is listed today.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.parity._helpers")

# Gap name -> what differs from FastAPI. Empty: every ported example answers as FastAPI does.
GAPS: dict[str, str] = {}

KNOWN_GAPS: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.removeprefix("tests/parity/")
        gap = KNOWN_GAPS.get(nodeid)
        if gap is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known gap: {GAPS[gap]}"))

"""Parity ports: helpers get pytest's assert rewriting; known gaps are strict xfails, listed here.

Every example was checked against FastAPI 0.165 itself (README.md). The tests below fail today because
zigmund_fast does not yet behave like FastAPI there. They are marked ``xfail(strict=True)`` in this one
place, with the gap named, so that the suite stays a true signal: a gap that gets fixed turns its test
into an unexpected pass, which fails the run until the entry is removed here. The tests themselves
assert FastAPI's answers, unchanged.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.parity._helpers")

GAPS = {
    "BODY_ERRORS": "body validation runs on msgspec: its first error only, as value_error with input null; "
                   "FastAPI (pydantic) reports every error with types such as float_parsing/string_type/"
                   "greater_than, the offending input, lax numeric strings, and 422 for non-JSON content types",
}

KNOWN_GAPS: dict[str, str] = {
    "test_body.py::test_tutorial001_no_body_is_missing[null]": "BODY_ERRORS",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.removeprefix("tests/parity/")
        gap = KNOWN_GAPS.get(nodeid)
        if gap is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known gap: {GAPS[gap]}"))

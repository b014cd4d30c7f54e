"""Parity ports: let pytest rewrite the asserts in the shared helpers (for readable failure diffs)."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.parity._helpers")

"""JSON encoding of a small dict: msgspec alone, and as a zigmund ``Response.json`` (the handler-result path)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import zigmund_fast as zigmund

pytest.importorskip("pytest_benchmark")

SMALL = {"item_id": 42, "q": "foo", "tags": ["a", "b"], "price": 9.5, "in_stock": True}
ENCODED = b'{"item_id":42,"q":"foo","tags":["a","b"],"price":9.5,"in_stock":true}'


def test_msgspec_encode(benchmark: Any) -> None:
    encode = msgspec.json.Encoder().encode
    assert encode(SMALL) == ENCODED
    benchmark(encode, SMALL)


def test_response_json(benchmark: Any) -> None:
    response = zigmund.Response.json(SMALL)
    assert (response.status_code, response.body) == (200, ENCODED)
    benchmark(zigmund.Response.json, SMALL)

"""FastAPI tutorial, "JSON Compatible Encoder": tutorial001 (``jsonable_encoder`` before storing a model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from zigmund_fast import App
from zigmund_fast.testing import TestClient


class Item(msgspec.Struct, kw_only=True):
    title: str
    timestamp: datetime
    description: str | None = None


def json_encoder_tutorial001(fake_db: dict[str, Any]) -> App:
    # FastAPI: from fastapi.encoders import jsonable_encoder
    from zigmund_fast.encoders import jsonable_encoder

    app = App()

    @app.put("/items/{id}")
    def update_item(id: str, item: Item) -> None:
        json_compatible_item_data = jsonable_encoder(item)
        fake_db[id] = json_compatible_item_data

    return app


def test_tutorial001_stores_json_compatible_data() -> None:
    fake_db: dict[str, Any] = {}
    with TestClient(json_encoder_tutorial001(fake_db)) as client:
        aware = client.put("/items/foo", json={"title": "Foo", "timestamp": "2018-12-22T14:00:00+00:00"})
        naive = client.put("/items/bar", json={"title": "Bar", "timestamp": "2018-12-22T14:00:00", "description": "x"})
    assert (aware.status_code, aware.json()) == (200, None)
    assert (naive.status_code, naive.json()) == (200, None)
    assert fake_db == {
        "foo": {"title": "Foo", "timestamp": "2018-12-22T14:00:00Z", "description": None},
        "bar": {"title": "Bar", "timestamp": "2018-12-22T14:00:00", "description": "x"},
    }

"""``jsonable_encoder`` and the per-route choice of how plain return values with dates and durations are written.

FastAPI writes a ``timedelta`` in a plain value (dict, list, dataclass) as float
seconds and a ``datetime`` as ``isoformat()``; a model keeps its own format.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

import msgspec

from zigmund_fast import App, Body
from zigmund_fast.encoders import _json_encode, jsonable_encoder, plain_json_encoder
from zigmund_fast.testing import TestClient

NOON = datetime(2018, 12, 22, 12, tzinfo=UTC)


class Event(msgspec.Struct):
    at: datetime
    lasts: timedelta


@dataclasses.dataclass
class Slot:
    at: datetime
    lasts: timedelta


def test_jsonable_encoder_writes_plain_durations_as_seconds() -> None:
    value = {"wait": timedelta(minutes=5), "at": NOON, "slots": [Slot(NOON, timedelta(seconds=1.5))],
             "clock": time(1, 2, tzinfo=UTC)}
    assert jsonable_encoder(value) == {"wait": 300.0, "at": "2018-12-22T12:00:00+00:00",
                                       "slots": [{"at": "2018-12-22T12:00:00+00:00", "lasts": 1.5}],
                                       "clock": "01:02:00+00:00"}


def test_jsonable_encoder_keeps_a_models_own_format() -> None:
    assert jsonable_encoder(Event(NOON, timedelta(minutes=5))) == {"at": "2018-12-22T12:00:00Z", "lasts": "PT300S"}


def test_routes_without_dates_keep_msgspecs_encoder() -> None:
    async def hello() -> dict[str, str]:
        return {"message": "Hello"}

    async def item(item_id: int, q: str | None = None) -> Any:
        return {}

    assert plain_json_encoder(hello, []) is _json_encode
    assert plain_json_encoder(item, [int, str | None]) is _json_encode


def test_a_date_anywhere_in_the_signature_selects_fastapis_format() -> None:
    async def handler() -> Any:
        return {}

    async def returns_dates() -> list[Slot]:
        return []

    for types in ([timedelta], [datetime | None], [list[Event]], [dict[str, Slot]]):
        assert plain_json_encoder(handler, types) is not _json_encode, types
    assert plain_json_encoder(returns_dates, []) is not _json_encode


def make_app() -> App:
    app = App()

    @app.post("/schedule")
    async def schedule(start: Annotated[datetime, Body()], wait: Annotated[timedelta, Body()]) -> Any:
        return {"end": start + wait, "wait": wait, "slot": Slot(start, wait), "event": Event(start, wait)}

    @app.get("/elapsed")
    async def elapsed() -> Any:
        return {"wait": timedelta(minutes=5)}

    return app


def test_a_route_with_dates_answers_as_fastapi() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/schedule", json={"start": "2018-12-22T12:00:00+00:00", "wait": 300})
    assert response.status_code == 200
    assert response.json() == {
        "end": "2018-12-22T12:05:00+00:00", "wait": 300.0,
        "slot": {"at": "2018-12-22T12:00:00+00:00", "lasts": 300.0},
        "event": {"at": "2018-12-22T12:00:00Z", "lasts": "PT300S"},
    }


def test_a_route_without_dates_in_its_signature_answers_iso_durations() -> None:
    # The documented limit of the per-route choice: return jsonable_encoder(value) for seconds here.
    with TestClient(make_app()) as client:
        response = client.get("/elapsed")
    assert response.json() == {"wait": "PT300S"}

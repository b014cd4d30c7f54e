"""FastAPI tutorial, "Extra Data Types": tutorial001 (UUID path, datetime/time/timedelta body values)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

from zigmund_fast import App, Body
from zigmund_fast.testing import TestClient

from ._helpers import assert_422

ITEM_ID = "ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c"
SENT = {"start_datetime": "2018-12-22T14:00:00+00:00", "end_datetime": "2018-12-24T15:00:00+00:00",
        "repeat_at": "15:30:00", "process_after": 300}
# FastAPI's answer: datetimes keep "+00:00", timedeltas are seconds as floats.
EXPECTED = {"item_id": ITEM_ID, "start_datetime": "2018-12-22T14:00:00+00:00",
            "end_datetime": "2018-12-24T15:00:00+00:00", "process_after": 300.0, "repeat_at": "15:30:00",
            "start_process": "2018-12-22T14:05:00+00:00", "duration": 176100.0}


def extra_data_types_tutorial001() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def read_items(
        item_id: UUID,
        start_datetime: Annotated[datetime, Body()],
        end_datetime: Annotated[datetime, Body()],
        process_after: Annotated[timedelta, Body()],
        repeat_at: Annotated[time | None, Body()] = None,
    ) -> dict[str, Any]:
        start_process = start_datetime + process_after
        duration = end_datetime - start_process
        return {
            "item_id": item_id,
            "start_datetime": start_datetime,
            "end_datetime": end_datetime,
            "process_after": process_after,
            "repeat_at": repeat_at,
            "start_process": start_process,
            "duration": duration,
        }

    return app


def test_tutorial001_seconds_for_a_timedelta() -> None:
    with TestClient(extra_data_types_tutorial001()) as client:
        response = client.put(f"/items/{ITEM_ID}", json=SENT)
    assert response.status_code == 200
    assert response.json() == EXPECTED


def test_tutorial001_iso_duration_for_a_timedelta() -> None:
    with TestClient(extra_data_types_tutorial001()) as client:
        response = client.put(f"/items/{ITEM_ID}", json={**SENT, "process_after": "PT5M"})
    assert response.status_code == 200
    assert response.json() == EXPECTED


def test_tutorial001_a_bad_datetime() -> None:
    with TestClient(extra_data_types_tutorial001()) as client:
        response = client.put(f"/items/{ITEM_ID}", json={**SENT, "process_after": "PT5M", "start_datetime": "yesterday"})
    assert_422(response, [{"type": "datetime_from_date_parsing", "loc": ["body", "start_datetime"],
                           "msg": "Input should be a valid datetime or date, input is too short",
                           "input": "yesterday", "ctx": {"error": "input is too short"}}])


def test_tutorial001_a_bad_uuid() -> None:
    with TestClient(extra_data_types_tutorial001()) as client:
        response = client.put("/items/not-a-uuid", json={**SENT, "process_after": "PT5M"})
    assert_422(response, [{"type": "uuid_parsing", "loc": ["path", "item_id"],
                           "msg": "Input should be a valid UUID, invalid character: found `n` at 0",
                           "input": "not-a-uuid", "ctx": {"error": "invalid character: found `n` at 0"}}])

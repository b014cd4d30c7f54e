"""pydantic's lax scalar conversions: accepted inputs, and the error type and message of the others.

The expected values were read from pydantic 2.14 (what FastAPI 0.165 uses); the
last test compares a wider set of inputs with pydantic itself when it is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from zigmund_fast import lax_scalars
from zigmund_fast.lax_scalars import LaxError

CONVERTERS: dict[Any, Callable[[Any], Any]] = {
    int: lax_scalars.to_int, float: lax_scalars.to_float, bool: lax_scalars.to_bool,
    datetime: lax_scalars.to_datetime, date: lax_scalars.to_date, time: lax_scalars.to_time,
    timedelta: lax_scalars.to_timedelta, UUID: lax_scalars.to_uuid, Decimal: lax_scalars.to_decimal,
    bytes: lax_scalars.to_bytes,
}

ACCEPTED = [
    (int, " +1 ", 1), (int, "1_000", 1000), (int, "3.000", 3), (int, 3.0, 3), (int, True, 1),
    (int, "99999999999999999999", 99999999999999999999),
    (float, " 1.5 ", 1.5), (float, "1_000.5", 1000.5), (float, "1e3", 1000.0), (float, True, 1.0),
    (bool, "Yes", True), (bool, "off", False), (bool, 1.0, True), (bool, 0, False),
    (datetime, "2018-12-22", datetime(2018, 12, 22)),
    (datetime, "2018-12-22 14:00", datetime(2018, 12, 22, 14)),
    (datetime, "2018-12-22T14:00:00.5+01:00", datetime(2018, 12, 22, 14, 0, 0, 500000,
                                                       timezone(timedelta(hours=1)))),
    (datetime, 1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    (datetime, "1700000000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # milliseconds
    (date, "2018-12-22T00:00:00Z", date(2018, 12, 22)), (date, 86400, date(1970, 1, 2)),
    (time, "15:30", time(15, 30)), (time, "15:30:00,5", time(15, 30, 0, 500000)),
    (time, 3600, time(1, 0, tzinfo=UTC)),
    (timedelta, 300, timedelta(minutes=5)), (timedelta, "PT5M", timedelta(minutes=5)),
    (timedelta, "-PT5M", timedelta(minutes=-5)), (timedelta, "P1Y2M3W4DT5H6M7.8S",
                                                  timedelta(days=450, seconds=18367.8)),
    (timedelta, "1 day, 1:00:00", timedelta(days=1, hours=1)), (timedelta, "25:00:00", timedelta(hours=25)),
    (timedelta, "2d", timedelta(days=2)),
    (UUID, "{ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c}", UUID("ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c")),
    (UUID, "ff97b8b6e9a44a2fa6f87c3a8a9e1a2c", UUID("ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c")),
    (Decimal, 1.5, Decimal("1.5")), (bytes, "é", "é".encode()),
]


@pytest.mark.parametrize(("kind", "value", "expected"), ACCEPTED)
def test_accepted(kind: Any, value: Any, expected: Any) -> None:
    result = CONVERTERS[kind](value)
    assert result == expected
    assert type(result) is type(expected)


REFUSED = [
    (int, "1.5", "int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
    (int, "١", "int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
    (int, 3.5, "int_from_float", "Input should be a valid integer, got a number with a fractional part"),
    (int, 1e19, "int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"),
    (int, None, "int_type", "Input should be a valid integer"),
    (float, "1,5", "float_parsing", "Input should be a valid number, unable to parse string as a number"),
    (float, [], "float_type", "Input should be a valid number"),
    (bool, 2, "bool_parsing", "Input should be a valid boolean, unable to interpret input"),
    (bool, 0.5, "bool_type", "Input should be a valid boolean"),
    (datetime, "2018-13-01", "datetime_from_date_parsing",
     "Input should be a valid datetime or date, month value is outside expected range of 1-12"),
    (datetime, "2018-12-22T25:00", "datetime_from_date_parsing",
     "Input should be a valid datetime or date, unexpected extra characters at the end of the input"),
    (datetime, 1e30, "datetime_parsing",
     "Input should be a valid datetime, dates after 9999 are not supported as unix timestamps"),
    (date, "2018-12-22T25:00", "date_from_datetime_parsing",
     "Input should be a valid date or datetime, hour value is outside expected range of 0-23"),
    (date, 1.5, "date_from_datetime_inexact", "Datetimes provided to dates should have zero time - e.g. be exact dates"),
    (time, "15:30:00+01", "time_parsing", "Input should be in a valid time format, invalid timezone minute"),
    (time, 86400, "time_parsing", "Input should be in a valid time format, numeric times may not exceed 86,399 seconds"),
    (timedelta, "300", "time_delta_parsing",
     'Input should be a valid timedelta, "day" identifier in duration not correctly formatted'),
    (timedelta, "PTT1H", "time_delta_parsing", "Input should be a valid timedelta, `t` character repeated in duration"),
    (timedelta, "P1H", "time_delta_parsing",
     "Input should be a valid timedelta, quantity invalid in date part of duration"),
    (timedelta, None, "time_delta_type", "Input should be a valid timedelta"),
    (UUID, "ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2", "uuid_parsing",
     "Input should be a valid UUID, invalid group length in group 4: expected 12, found 11"),
    (UUID, "not-a-uuid", "uuid_parsing", "Input should be a valid UUID, invalid character: found `n` at 0"),
    (UUID, 1, "uuid_type", "UUID input should be a string, bytes or UUID object"),
    (Decimal, "nan", "finite_number", "Input should be a finite number"),
    (Decimal, "x", "decimal_parsing", "Input should be a valid decimal"),
    (bytes, 1, "bytes_type", "Input should be a valid bytes"),
]


@pytest.mark.parametrize(("kind", "value", "error_type", "message"), REFUSED)
def test_refused(kind: Any, value: Any, error_type: str, message: str) -> None:
    with pytest.raises(LaxError) as caught:
        CONVERTERS[kind](value)
    assert (caught.value.type, caught.value.msg) == (error_type, message)
    if kind in (datetime, date, time, timedelta, UUID) and error_type.endswith("_parsing"):
        # the parser's reason, after the comma, is also the ctx "error"
        assert caught.value.ctx == {"error": message.split(", ", 1)[1]}


MORE_INPUTS: dict[Any, list[Any]] = {
    int: ["1__0", "_1", "1_", "+-1", "1.", ".0", "0x10", "00012", "-0.0", "\t5\n", "1 0", "", " ", "+", 9.3e18],
    float: ["1__0", " 1.5 ", "1.", ".5", "1E5", "0x10", "infinity", "-nan", "NaN", "1e", "e5", " ", "++1"],
    bool: ["", " true", "TRUE ", "Yes", "oN", "F", 2.0, -1, None],
    time: ["1530", "1:30", "x5:30", "15-30", "15:x0", "15:60", "15:30:", "15:30:5x", "15:30:60", "15:30:00.",
           "15:30:00.1234567", "15:30:00+0100", "15:30:00+25:00", "15:30:00 +01:00", "15:30:00+x", "15:30,5",
           "3600", -1, True, "", "15:30:00Zx"],
    datetime: ["2018-12-22_14:00", "2018-12-22X14:00", "2018-12-22T", "2018-12-22T14:0", "201x-12-22", "2018-1x-22",
               "2018-12-2x", "2018-12-00", "2019-02-29", "2020-02-29", "1e3", "2018", "99999999999", "+5",
               " 2018-12-22", "2018-12-22 ", "12345678901234567890", True, [1], "2018/12/22"],
    date: ["2018-12-22 x", "x", "2018-1x-22", "86400", 0, -86400, "2018-12-22T00:00:00.000001", True, 1e20,
           "20181222"],
    timedelta: ["P1M", "PT1,5S", "P1.5D", "PT", "-", "PT5X", "P5", "PT5", "P1DT", "1 days, 1:00:00", "1 d", "1day",
                "-1 day, 23:00:00", "1:00:00", "01:00", "1:00", "00:60:00", "3x", "1 dayx", "01:00:00x", True, 1e20,
                "P99999999999D", "1 day, x"],
    UUID: ["ff97b8b6e9a44a2fa6f87c3a8a9e1a2", "ff97b8b6-e9a44a2f-a6f8-7c3a8a9e1a2c", "{ff97b8b6e9a44a2fa6f87c3a8a9e1a2c}",
           "urn:uuid:ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c", "ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1é2c", "", "a-b",
           "ff97b8b-e9a4-4a2f-a6f8-7c3a8a9e1a2cc", "ff97b8b6-e9a4-4a2f-a6f8-7c3a8a9e1a2c-"],
    Decimal: [None, "1e3", True, " 1.5 ", 3, "inf", "-0"],
}


@pytest.mark.parametrize("kind", list(MORE_INPUTS), ids=lambda kind: kind.__name__)
def test_same_outcome_as_pydantic(kind: Any) -> None:
    pydantic = pytest.importorskip("pydantic")
    adapter = pydantic.TypeAdapter(kind)
    for value in MORE_INPUTS[kind]:
        try:
            expected: tuple[Any, ...] = ("ok", adapter.validate_python(value))
        except pydantic.ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            expected = ("error", first["type"], first["msg"], first.get("ctx"))
        try:
            found: tuple[Any, ...] = ("ok", CONVERTERS[kind](value))
        except LaxError as exc:
            found = ("error", exc.type, exc.msg, exc.ctx)
        if expected[0] == found[0] == "ok" and expected[1] != expected[1]:  # NaN
            assert found[1] != found[1]
            continue
        assert found == expected, value

"""pydantic's lax conversion of one JSON scalar, with pydantic's error types and messages.

A FastAPI body accepts more than msgspec does: ``" 4"`` and ``"1_000"`` for an
``int``, ``"yes"`` for a ``bool``, ``"2018-12-22"`` for a ``datetime``,
``"1 day, 1:00:00"`` for a ``timedelta``. Each ``to_<type>`` function here takes
a value as ``json.loads`` produced it and returns the Python value pydantic
would, or raises ``LaxError`` with the error pydantic would report. The date,
time and duration texts follow the grammar of pydantic's parser (speedate),
the UUID texts that of Rust's ``uuid`` crate, so that the messages match.

Only the failure path of a request body uses this module: the success path is
one msgspec decode.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID


class LaxError(Exception):
    """One value did not convert: pydantic's error ``type``, ``msg`` and ``ctx``."""

    def __init__(self, type_: str, msg: str, ctx: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.type = type_
        self.msg = msg
        self.ctx = ctx


class _Unparsable(Exception):
    """A date/time/duration/UUID text did not parse; the argument is the parser's message."""


def _with_reason(type_: str, prefix: str, reason: str) -> LaxError:
    return LaxError(type_, f"{prefix}, {reason}", {"error": reason})


# Numbers and booleans.

_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
_I64_LIMIT = 2.0**63
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def to_int(value: Any) -> int:
    if type(value) is int or type(value) is bool:
        return int(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise LaxError("finite_number", "Input should be a finite number")
        if abs(value) >= _I64_LIMIT:
            raise LaxError("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")
        if not value.is_integer():
            raise LaxError("int_from_float", "Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            return int(text.partition(".")[0])
        raise LaxError("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
    raise LaxError("int_type", "Input should be a valid integer")


def to_float(value: Any) -> float:
    if type(value) is float or type(value) is int or type(value) is bool:
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if not text.isascii():
                raise ValueError(text)
            return float(text)
        except ValueError:
            raise LaxError("float_parsing", "Input should be a valid number, unable to parse string as a number") \
                from None
    raise LaxError("float_type", "Input should be a valid number")


def to_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    elif type(value) is int or (type(value) is float and value.is_integer()):
        if value == 1:
            return True
        if value == 0:
            return False
    else:
        raise LaxError("bool_type", "Input should be a valid boolean")
    raise LaxError("bool_parsing", "Input should be a valid boolean, unable to interpret input")


def to_decimal(value: Any) -> Decimal:
    if type(value) is bool or not isinstance(value, (int, float, str)):
        raise LaxError("decimal_type", "Decimal input should be an integer, float, string or Decimal object")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise LaxError("decimal_parsing", "Input should be a valid decimal") from None
    if not result.is_finite():
        raise LaxError("finite_number", "Input should be a finite number")
    return result


def to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    raise LaxError("bytes_type", "Input should be a valid bytes")


# UUIDs, as Rust's uuid crate reads them.

_HEX = frozenset("0123456789abcdefABCDEF")
_GROUP_STARTS = (0, 9, 14, 19, 24)
_GROUP_LENGTHS = (8, 4, 4, 4, 12)


def to_uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise LaxError("uuid_type", "UUID input should be a string, bytes or UUID object")
    text, offset, simple = value, 0, True
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        text, offset, simple = value[1:-1], 1, False
    elif value.startswith("urn:uuid:"):
        text, offset, simple = value[9:], 9, False
    if (simple and len(text) == 32 and all(c in _HEX for c in text)) or (
        len(text) == 36 and all(text[i] == "-" for i in (8, 13, 18, 23))
        and all(c in _HEX for c in text.replace("-", ""))
    ):
        return UUID(text)
    raise _with_reason("uuid_parsing", "Input should be a valid UUID", _uuid_problem(text, offset, simple))


def _uuid_problem(text: str, offset: int, simple: bool) -> str:
    hyphens: list[int] = []
    for index, char in enumerate(text):
        if char == "-":
            hyphens.append(index)
        elif char not in _HEX:
            return f"invalid character: found `{char}` at {index + offset}"
    if not hyphens and simple:
        return f"invalid length: found {len(text)}"
    if len(hyphens) != 4:
        return f"invalid group count: expected 5, found {len(hyphens) + 1}"
    for group in range(4):
        if hyphens[group] != _GROUP_STARTS[group + 1] - 1:
            return (f"invalid group length in group {group}: expected {_GROUP_LENGTHS[group]}, "
                    f"found {hyphens[group] - _GROUP_STARTS[group]}")
    return f"invalid group length in group 4: expected 12, found {len(text) - _GROUP_STARTS[4]}"


# Dates and times, as speedate reads them.

_TOO_SHORT = "input is too short"
_EXTRA = "unexpected extra characters at the end of the input"
_DATE_SEPARATOR = "invalid date separator, expected `-`"
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59
_MIN_TIMESTAMP = -11_676_096_000  # 1600-01-01T00:00:00
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _digits(text: str, start: int, count: int) -> int | None:
    part = text[start:start + count]
    if len(part) == count and part.isascii() and part.isdigit():
        return int(part)
    return None


def _date_prefix(text: str) -> date:
    """The ``YYYY-MM-DD`` the text starts with."""
    if len(text) < 10:
        raise _Unparsable(_TOO_SHORT)
    year = _digits(text, 0, 4)
    if year is None:
        raise _Unparsable("invalid character in year")
    if text[4] != "-":
        raise _Unparsable(_DATE_SEPARATOR)
    month = _digits(text, 5, 2)
    if month is None:
        raise _Unparsable("invalid character in month")
    if text[7] != "-":
        raise _Unparsable(_DATE_SEPARATOR)
    day = _digits(text, 8, 2)
    if day is None:
        raise _Unparsable("invalid character in day")
    if not 1 <= month <= 12:
        raise _Unparsable("month value is outside expected range of 1-12")
    if year == 0 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise _Unparsable("day value is outside expected range")
    return date(year, month, day)


def _parse_date(text: str) -> date:
    result = _date_prefix(text)
    if len(text) > 10:
        raise _Unparsable(_EXTRA)
    return result


def _time_part(text: str, start: int) -> tuple[time, int]:
    """The ``HH:MM[:SS[.ffffff]][Z|±HH[:]MM]`` at ``start``, and the index after it."""
    if len(text) - start < 5:
        raise _Unparsable(_TOO_SHORT)
    hour = _digits(text, start, 2)
    if hour is None:
        raise _Unparsable("invalid character in hour")
    if text[start + 2] != ":":
        raise _Unparsable("invalid time separator, expected `:`")
    minute = _digits(text, start + 3, 2)
    if minute is None:
        raise _Unparsable("invalid character in minute")
    if hour > 23:
        raise _Unparsable("hour value is outside expected range of 0-23")
    if minute > 59:
        raise _Unparsable("minute value is outside expected range of 0-59")
    index, second, micro = start + 5, 0, 0
    if text[index:index + 1] == ":":
        second_digits = _digits(text, index + 1, 2)
        if second_digits is None:
            raise _Unparsable("invalid character in second")
        if second_digits > 59:
            raise _Unparsable("second value is outside expected range of 0-59")
        second, index = second_digits, index + 3
        if text[index:index + 1] in (".", ","):
            end = index + 1
            while end < len(text) and "0" <= text[end] <= "9":
                end += 1
            if end == index + 1:
                raise _Unparsable("second fraction digits missing after `.`")
            micro = int(text[index + 1:end][:6].ljust(6, "0"))
            index = end
    tz, index = _offset(text, index)
    return time(hour, minute, second, micro, tzinfo=tz), index


def _offset(text: str, index: int) -> tuple[timezone | None, int]:
    if index >= len(text):
        return None, index
    sign = text[index]
    if sign in ("Z", "z"):
        return UTC, index + 1
    if sign not in ("+", "-"):
        raise _Unparsable("invalid timezone sign")
    hours = _digits(text, index + 1, 2)
    if hours is None:
        raise _Unparsable("invalid timezone hour")
    index += 3
    if text[index:index + 1] == ":":
        index += 1
    minutes = _digits(text, index, 2)
    if minutes is None:
        raise _Unparsable("invalid timezone minute")
    total = hours * 60 + minutes
    if total >= 24 * 60:
        raise _Unparsable("timezone offset must be less than 24 hours")
    if total == 0:
        return UTC, index + 2
    return timezone(timedelta(minutes=-total if sign == "-" else total)), index + 2


def _parse_datetime(text: str) -> datetime:
    day = _date_prefix(text)
    if len(text) == 10:
        raise _Unparsable(_TOO_SHORT)
    if text[10] not in ("T", "t", "_", " "):
        raise _Unparsable("invalid datetime separator, expected `T`, `t`, `_` or space")
    moment, index = _time_part(text, 11)
    if index != len(text):
        raise _Unparsable(_EXTRA)
    return datetime.combine(day, moment)


def _numeric_text(text: str) -> int | float | None:
    if not _NUMBER_TEXT.fullmatch(text):
        return None
    number = float(text) if "." in text else int(text)
    return None if abs(number) >= _I64_LIMIT else number


def _from_timestamp(stamp: float) -> datetime:
    if abs(stamp) > 20_000_000_000:  # as pydantic: such a big number counts milliseconds
        stamp = stamp / 1000
    if stamp > _MAX_TIMESTAMP:
        raise _Unparsable("dates after 9999 are not supported as unix timestamps")
    if stamp < _MIN_TIMESTAMP:
        raise _Unparsable("dates before 1600 are not supported as unix timestamps")
    seconds = math.floor(stamp)
    return _EPOCH + timedelta(seconds=seconds, microseconds=round((stamp - seconds) * 1_000_000))


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def to_datetime(value: Any) -> datetime:
    if _is_number(value):
        try:
            return _from_timestamp(value)
        except _Unparsable as exc:
            raise _with_reason("datetime_parsing", "Input should be a valid datetime", str(exc)) from None
    if not isinstance(value, str):
        raise LaxError("datetime_type", "Input should be a valid datetime")
    try:
        return _parse_datetime(value)
    except _Unparsable:
        pass
    number = _numeric_text(value)
    if number is not None:
        try:
            return _from_timestamp(number)
        except _Unparsable as exc:
            raise _with_reason("datetime_parsing", "Input should be a valid datetime", str(exc)) from None
    # NOTE: as pydantic, a text that is no datetime may still be a date (midnight); if it is
    # neither, the error is the date parser's.
    try:
        return datetime.combine(_parse_date(value), time())
    except _Unparsable as exc:
        raise _with_reason("datetime_from_date_parsing", "Input should be a valid datetime or date", str(exc)) \
            from None


def to_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return _parse_date(value)
        except _Unparsable:
            pass
        number = _numeric_text(value)
        try:
            moment = _from_timestamp(number) if number is not None else _parse_datetime(value)
        except _Unparsable as exc:
            raise _with_reason("date_from_datetime_parsing", "Input should be a valid date or datetime", str(exc)) \
                from None
    elif _is_number(value):
        try:
            moment = _from_timestamp(value)
        except _Unparsable as exc:
            raise _with_reason("date_from_datetime_parsing", "Input should be a valid date or datetime", str(exc)) \
                from None
    else:
        raise LaxError("date_type", "Input should be a valid date")
    if moment.time() != time():
        raise LaxError("date_from_datetime_inexact",
                       "Datetimes provided to dates should have zero time - e.g. be exact dates")
    return moment.date()


def to_time(value: Any) -> time:
    prefix = "Input should be in a valid time format"
    if _is_number(value):
        if value < 0:
            raise _with_reason("time_parsing", prefix, "time in seconds should be positive")
        if value >= 86_400:
            raise _with_reason("time_parsing", prefix, "numeric times may not exceed 86,399 seconds")
        moment = datetime.combine(_EPOCH.date(), time(), UTC) + timedelta(seconds=value)
        return moment.timetz()
    if not isinstance(value, str):
        raise LaxError("time_type", "Input should be a valid time")
    try:
        moment, index = _time_part(value, 0)
        if index != len(value):
            raise _Unparsable(_EXTRA)
    except _Unparsable as exc:
        raise _with_reason("time_parsing", prefix, str(exc)) from None
    return moment


# Durations: ISO 8601 (``P1DT2H``), ``[-]1 day[s][,] HH:MM[:SS[.f]]`` and ``HH:MM[:SS[.f]]``.

_MAX_DAYS = 999_999_999
_DATE_UNITS = {"Y": 365 * 86_400, "M": 30 * 86_400, "W": 7 * 86_400, "D": 86_400}
_TIME_UNITS = {"H": 3_600, "M": 60, "S": 1}


def to_timedelta(value: Any) -> timedelta:
    prefix = "Input should be a valid timedelta"
    if _is_number(value) or type(value) is bool:
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = _duration_seconds(value)
        except _Unparsable as exc:
            raise _with_reason("time_delta_parsing", prefix, str(exc)) from None
    else:
        raise LaxError("time_delta_type", "Input should be a valid timedelta")
    if not math.isfinite(seconds) or abs(seconds) >= (_MAX_DAYS + 1) * 86_400:
        raise _with_reason("time_delta_parsing", prefix, "durations may not exceed 999,999,999 days")
    return timedelta(seconds=seconds)


def _duration_seconds(text: str) -> float:
    if not text:
        raise _Unparsable(_TOO_SHORT)
    sign, start = 1, 0
    if text[0] in "+-":
        sign, start = (-1 if text[0] == "-" else 1), 1
    if start >= len(text):
        raise _Unparsable(_TOO_SHORT)
    if text[start] == "P":
        return sign * _iso_duration(text, start + 1)
    return sign * _days_and_time(text, start)


def _number_end(text: str, index: int) -> int:
    while index < len(text) and "0" <= text[index] <= "9":
        index += 1
    return index


def _iso_duration(text: str, index: int) -> float:
    total, in_time, quantities = 0.0, False, 0
    while index < len(text):
        if text[index] == "T":
            if in_time:
                raise _Unparsable("`t` character repeated in duration")
            in_time, index = True, index + 1
            continue
        end = _number_end(text, index)
        if end == index:
            raise _Unparsable("invalid digit in duration")
        if int(text[index:end]) > 0xFFFF_FFFF:
            raise _Unparsable("a numeric value in the duration is too large")
        if text[end:end + 1] in (".", ","):
            fraction_end = _number_end(text, end + 1)
            if fraction_end == end + 1:
                raise _Unparsable("quantity fraction invalid in duration")
            number = float(text[index:end] + "." + text[end + 1:fraction_end])
            end = fraction_end
        else:
            number = float(text[index:end])
        unit = (_TIME_UNITS if in_time else _DATE_UNITS).get(text[end:end + 1])
        if unit is None:
            part = "time" if in_time else "date"
            raise _Unparsable(f"quantity invalid in {part} part of duration")
        total += number * unit
        quantities += 1
        index = end + 1
    if not quantities:
        raise _Unparsable(_TOO_SHORT)
    return total


def _days_and_time(text: str, index: int) -> float:
    end = _number_end(text, index)
    if end == index:
        raise _Unparsable("invalid digit in duration")
    if text[end:end + 1] == ":" and len(text) - index >= 5:
        return _clock(text, index)
    days = int(text[index:end])
    index = end
    while text[index:index + 1] == " ":
        index += 1
    for unit in ("days", "day", "d"):
        if text.startswith(unit, index):
            index += len(unit)
            break
    else:
        raise _Unparsable('"day" identifier in duration not correctly formatted')
    if text[index:index + 1] == ",":
        index += 1
    while text[index:index + 1] == " ":
        index += 1
    seconds = days * 86_400.0
    if index < len(text):
        seconds += _clock(text, index)
    return seconds


def _clock(text: str, index: int) -> float:
    """``H[H...]:MM[:SS[.f]]`` at ``index``, to the end of the text, in seconds (hours unbounded)."""
    if len(text) - index < 5:
        raise _Unparsable(_TOO_SHORT)
    end = _number_end(text, index)
    if end == index:
        raise _Unparsable("invalid character in hour")
    hours = int(text[index:end])
    if text[end:end + 1] != ":":
        raise _Unparsable("invalid time separator, expected `:`")
    minutes = _digits(text, end + 1, 2)
    if minutes is None:
        raise _Unparsable("invalid character in minute")
    if minutes > 59:
        raise _Unparsable("minute value is outside expected range of 0-59")
    seconds, index = 0.0, end + 3
    if text[index:index + 1] == ":":
        whole = _digits(text, index + 1, 2)
        if whole is None:
            raise _Unparsable("invalid character in second")
        if whole > 59:
            raise _Unparsable("second value is outside expected range of 0-59")
        seconds, index = float(whole), index + 3
        if text[index:index + 1] in (".", ","):
            end = _number_end(text, index + 1)
            if end == index + 1:
                raise _Unparsable("second fraction digits missing after `.`")
            seconds += float("0." + text[index + 1:end])
            index = end
    if index != len(text):
        raise _Unparsable(_EXTRA)
    return hours * 3_600.0 + minutes * 60.0 + seconds


__all__ = [
    "LaxError", "to_bool", "to_bytes", "to_date", "to_datetime", "to_decimal", "to_float", "to_int", "to_time",
    "to_timedelta", "to_uuid",
]

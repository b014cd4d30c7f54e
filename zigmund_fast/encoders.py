"""``jsonable_encoder``: turn models, dataclasses, datetimes, UUIDs, enums... into JSON-compatible data.

Also the JSON encoding of a route's plain return values (dicts, lists,
dataclasses) when they may hold dates and durations: FastAPI writes a
``timedelta`` there as float seconds and a ``datetime`` as ``isoformat()``
(``+00:00``), where msgspec writes ISO 8601 durations and ``Z``. The choice is
made once per route (``plain_json_encoder``), so a route whose signature never
mentions a date, time or duration keeps msgspec's encoder and pays nothing.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec

from zigmund_fast.annotations import reachable_types
from zigmund_fast.pydantic_compat import is_pydantic_model

_json_encode = msgspec.json.Encoder().encode


def _fallback(value: Any) -> Any:
    if is_pydantic_model(type(value)):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON-compatible")


def fastapi_temporals(value: Any) -> Any:
    """``value`` with timedeltas as float seconds and datetimes/times as ``isoformat()``, as FastAPI writes
    them in plain values (dicts, lists, tuples, sets, dataclasses).

    Models (msgspec Structs, pydantic models) keep their own format, as a pydantic
    model does in FastAPI (ISO 8601 durations, ``Z``).
    """
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {key: fastapi_temporals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [fastapi_temporals(item) for item in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (datetime, time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: fastapi_temporals(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


def jsonable_encoder(value: Any) -> Any:
    """``value`` as dicts, lists, str, int, float, bool and None (what ``json.dumps`` accepts).

    msgspec Structs, dataclasses, TypedDicts, datetimes (ISO 8601 strings),
    UUIDs, enums, sets and pydantic models (when installed) are converted; as
    in FastAPI, a ``timedelta`` outside a model is its number of seconds.
    """
    return msgspec.to_builtins(fastapi_temporals(value), enc_hook=_fallback)


def encode_with_fastapi_temporals(value: Any) -> bytes:
    """JSON of a plain return value, with dates and durations written as FastAPI writes them."""
    return _json_encode(fastapi_temporals(value))


def plain_json_encoder(endpoint: Callable[..., Any], annotations: Iterable[Any]) -> Callable[[Any], bytes]:
    """The encoder for a route's plain return values, chosen once when the route is built.

    ``annotations`` are the route's parameter types; with the handler's return
    annotation they say whether a value may hold a date, time or duration (a
    ``datetime`` parameter, or the difference of two). Only then is the value
    walked before msgspec encodes it.

    NOTE: a handler that makes a ``timedelta`` without any such type in its
    signature gets msgspec's ISO 8601 duration; return ``jsonable_encoder(value)``
    for FastAPI's seconds.
    """
    try:
        returned = typing.get_type_hints(endpoint).get("return")
    except (NameError, TypeError, AttributeError):  # an unresolvable annotation says nothing
        returned = None
    if any(_mentions_temporal(annotation) for annotation in (*annotations, returned)):
        return encode_with_fastapi_temporals
    return _json_encode


def _mentions_temporal(annotation: Any) -> bool:
    return any(isinstance(part, type) and issubclass(part, (date, time, timedelta))
               for part in reachable_types(annotation))


__all__ = ["encode_with_fastapi_temporals", "fastapi_temporals", "jsonable_encoder", "plain_json_encoder"]

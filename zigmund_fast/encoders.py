"""``jsonable_encoder``: turn models, dataclasses, datetimes, UUIDs, enums... into JSON-compatible data."""

from __future__ import annotations

from typing import Any

import msgspec

from zigmund_fast.pydantic_compat import is_pydantic_model


def _fallback(value: Any) -> Any:
    if is_pydantic_model(type(value)):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON-compatible")


def jsonable_encoder(value: Any) -> Any:
    """``value`` as dicts, lists, str, int, float, bool and None (what ``json.dumps`` accepts).

    msgspec Structs, dataclasses, TypedDicts, datetimes (ISO 8601 strings),
    UUIDs, enums, sets and pydantic models (when installed) are converted.
    """
    return msgspec.to_builtins(value, enc_hook=_fallback)


__all__ = ["jsonable_encoder"]

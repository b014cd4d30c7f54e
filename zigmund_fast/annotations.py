"""The types reachable from an annotation: its arguments and the fields of the models it names.

Used at registration time to ask questions of a whole type tree ("does this
body or return type hold a datetime?", "which ``Literal``s does it declare?").
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from zigmund_fast.pydantic_compat import is_pydantic_model


def reachable_types(annotation: Any) -> Iterator[Any]:
    """``annotation``, its type arguments and the field types of the models it names, each once.

    Models are msgspec Structs, dataclasses, TypedDicts and pydantic models; a
    forward reference that does not resolve is skipped.
    """
    seen: set[int] = set()
    pending = [annotation]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(typing.get_args(current))
        if isinstance(current, type):
            pending.extend(_field_types(current))


def _field_types(cls: type) -> list[Any]:
    try:
        if issubclass(cls, msgspec.Struct):
            return [field.type for field in msgspec.structs.fields(cls)]
        if dataclasses.is_dataclass(cls) or typing.is_typeddict(cls):
            return list(typing.get_type_hints(cls, include_extras=True).values())
        if is_pydantic_model(cls):
            return [field.annotation for field in cls.model_fields.values()]  # type: ignore[attr-defined]
    except (NameError, TypeError, AttributeError):  # an unresolvable forward reference: nothing to learn
        return []
    return []


__all__ = ["reachable_types"]

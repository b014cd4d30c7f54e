"""``response_model_include=`` / ``response_model_exclude=``: which of the response model's fields are sent.

As in FastAPI, both are sets of field names (a list or tuple is taken as
the set of its items) applied to the top level of the value the response
model produced, after ``response_model_exclude_unset`` / ``_none``; a field
both included and excluded is left out. They are checked when the route is
registered: a name set needs a ``response_model`` (or a return annotation
naming a model) whose value has fields, i.e. not a list of models. FastAPI
would silently send ``[]`` for that (pydantic reads the names as list
positions); here it is a registration error, as is the nested ``dict`` form,
which is not supported.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Iterable
from typing import Any

import msgspec

_SEQUENCE_ORIGINS = frozenset({
    list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.MutableSequence,
    collections.abc.Set, collections.abc.MutableSet, collections.abc.Iterable, collections.abc.Collection,
})


def field_names(value: Any, option: str, where: str) -> frozenset[str] | None:
    """``value`` of ``response_model_include``/``_exclude`` as a frozenset of names (None when not given)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{where}: {option} must be a set of field names, got the string {value!r} "
                        f"(write {{{value!r}}})")
    if isinstance(value, collections.abc.Mapping):
        raise TypeError(f"{where}: {option} takes a set of top-level field names; the nested dict form is "
                        "not supported")
    if not isinstance(value, Iterable):
        raise TypeError(f"{where}: {option} must be a set of field names, got {type(value).__name__}")
    names = frozenset(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{where}: {option} must hold field names (strings), got {name!r}")
    return names


def check_filtered_model(model: Any, where: str) -> None:
    """Raise unless ``model`` gives a value with fields that include/exclude can pick from."""
    if model is None:
        raise TypeError(f"{where}: response_model_include/response_model_exclude need a response_model (or a "
                        "return annotation naming a model) to pick the fields of")
    for candidate in _without_none(model):
        if typing.get_origin(candidate) in _SEQUENCE_ORIGINS or candidate in _SEQUENCE_ORIGINS:
            raise TypeError(f"{where}: response_model_include/response_model_exclude pick the fields of one "
                            f"model, but the response_model is {model!r}, a sequence")


def encoded_names(model: Any, names: frozenset[str] | None) -> frozenset[str] | None:
    """Field names as they appear in the encoded value (a ``msgspec.Struct`` may rename its fields)."""
    if names is None:
        return None
    renames: dict[str, str] = {}
    for candidate in _without_none(model):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            renames.update((field.name, field.encode_name) for field in msgspec.structs.fields(candidate))
    return frozenset(renames.get(name, name) for name in names)


def pick_fields(data: Any, include: frozenset[str] | None, exclude: frozenset[str] | None) -> Any:
    """The keys of ``data`` (a dict; anything else, such as None, is returned as is) that are kept."""
    if not isinstance(data, dict):
        return data
    return {key: item for key, item in data.items()
            if (include is None or key in include) and (exclude is None or key not in exclude)}


def _without_none(annotation: Any) -> list[Any]:
    """``Item | None`` -> ``[Item]``; ``Item`` -> ``[Item]``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


__all__ = ["check_filtered_model", "encoded_names", "field_names", "pick_fields"]

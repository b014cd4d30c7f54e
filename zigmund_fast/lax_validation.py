"""A JSON value checked against a msgspec type description, with pydantic's errors (all of them).

``check(value, msgspec.inspect.type_info(T), loc, errors)`` appends every error
of ``value`` (as ``json.loads`` produced it) with pydantic's ``type``, ``loc``,
``msg``, ``input`` and ``ctx``, in pydantic's order, and returns the value in a
form ``msgspec.convert(..., T)`` accepts: inputs pydantic accepts and msgspec
does not (``" 4"`` for an int, ``"yes"`` for a bool, ``"2018-12-22"`` for a
datetime) come back converted (see ``zigmund_fast.lax_scalars``).

Used only after msgspec refused a request body (``zigmund_fast.body_errors``).
"""

from __future__ import annotations

import contextvars
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

import msgspec.inspect as mi

from zigmund_fast import lax_scalars
from zigmund_fast.annotations import reachable_types

Errors = list[dict[str, Any]]
Loc = list[Any]
Check = Callable[[Any, Any, Loc, Errors], Any]


def error(type_: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    """One FastAPI error entry."""
    entry: dict[str, Any] = {"type": type_, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        entry["ctx"] = ctx
    return entry


def missing(loc: Loc, value: Any = None) -> dict[str, Any]:
    return error("missing", loc, "Field required", value)


def check(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    """Append the errors of ``value`` against ``info``; return it in a form ``msgspec.convert`` accepts."""
    return _CHECKS.get(type(info), _accept)(value, info, loc, errors)


def _accept(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    return value


def _scalar(convert: Callable[[Any], Any]) -> Check:
    def check_scalar(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
        try:
            return convert(value)
        except lax_scalars.LaxError as exc:
            errors.append(error(exc.type, list(loc), exc.msg, value, exc.ctx))
            return None

    return check_scalar


def _check_none(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    if value is not None:
        errors.append(error("none_required", list(loc), "Input should be None", value))
    return None


def _format_bound(bound: Any, as_float: bool) -> tuple[Any, str]:
    """A constraint's ``ctx`` value and its text in the message, as pydantic writes them."""
    if not as_float:
        return bound, str(bound)
    number = float(bound)
    if number.is_integer():
        return number, str(int(number))
    text = repr(number)
    return number, format(Decimal(text), "f") if "e" in text else text


def _check_number(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    as_float = type(info) is mi.FloatType
    try:
        number = lax_scalars.to_float(value) if as_float else lax_scalars.to_int(value)
    except lax_scalars.LaxError as exc:
        errors.append(error(exc.type, list(loc), exc.msg, value, exc.ctx))
        return None
    # NOTE: pydantic reports one constraint per value, in this order.
    if info.multiple_of is not None and not _is_multiple(number, info.multiple_of):
        ctx_bound, text = _format_bound(info.multiple_of, as_float)
        errors.append(error("multiple_of", list(loc), f"Input should be a multiple of {text}", value,
                            {"multiple_of": ctx_bound}))
    else:
        for key, failed, kind, words in (
            ("le", lambda b: number > b, "less_than_equal", "less than or equal to"),
            ("lt", lambda b: number >= b, "less_than", "less than"),
            ("ge", lambda b: number < b, "greater_than_equal", "greater than or equal to"),
            ("gt", lambda b: number <= b, "greater_than", "greater than"),
        ):
            bound = getattr(info, key)
            if bound is not None and failed(bound):
                ctx_bound, text = _format_bound(bound, as_float)
                errors.append(error(kind, list(loc), f"Input should be {words} {text}", value, {key: ctx_bound}))
                break
    return number


def _is_multiple(number: float, step: float) -> bool:
    if isinstance(number, int) and isinstance(step, int):
        return number % step == 0
    remainder = math.fmod(number, step)
    return abs(remainder) < 1e-9 or abs(abs(remainder) - abs(step)) < 1e-9


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _check_str(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, str):
        errors.append(error("string_type", list(loc), "Input should be a valid string", value))
        return None
    if info.min_length is not None and len(value) < info.min_length:
        errors.append(error("string_too_short", list(loc),
                            f"String should have at least {_plural(info.min_length, 'character')}", value,
                            {"min_length": info.min_length}))
    elif info.max_length is not None and len(value) > info.max_length:
        errors.append(error("string_too_long", list(loc),
                            f"String should have at most {_plural(info.max_length, 'character')}", value,
                            {"max_length": info.max_length}))
    elif info.pattern is not None and re.search(info.pattern, value) is None:
        errors.append(error("string_pattern_mismatch", list(loc), f"String should match pattern '{info.pattern}'",
                            value, {"pattern": info.pattern}))
    return value


def _check_bytes(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    data = _scalar(lax_scalars.to_bytes)(value, info, loc, errors)
    if data is None:
        return None
    if info.min_length is not None and len(data) < info.min_length:
        errors.append(error("bytes_too_short", list(loc), f"Data should have at least {_plural(info.min_length, 'byte')}",
                            value, {"min_length": info.min_length}))
    elif info.max_length is not None and len(data) > info.max_length:
        errors.append(error("bytes_too_long", list(loc), f"Data should have at most {_plural(info.max_length, 'byte')}",
                            value, {"max_length": info.max_length}))
    return data if type(info) is mi.BytesType else bytearray(data)


def _timezone_checked(convert: Callable[[Any], Any]) -> Check:
    def check_moment(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
        moment = _scalar(convert)(value, info, loc, errors)
        if moment is None or info.tz is None:
            return moment
        if info.tz and moment.tzinfo is None:
            errors.append(error("timezone_aware", list(loc), "Input should have timezone info", value))
        elif not info.tz and moment.tzinfo is not None:
            errors.append(error("timezone_naive", list(loc), "Input should not have timezone info", value))
        return moment

    return check_moment


def _expected(values: Any) -> str:
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _check_enum(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    values = [member.value for member in info.cls]
    if any(v == value and type(v) is type(value) for v in values):
        return value
    if isinstance(value, str) and all(type(v) is int for v in values):
        try:
            number = lax_scalars.to_int(value)  # pydantic reads "2" as the IntEnum value 2
        except lax_scalars.LaxError:
            number = None
        if number in values:
            return number
    expected = _expected(values)
    errors.append(error("enum", list(loc), f"Input should be {expected}", value, {"expected": expected}))
    return None


# msgspec.inspect lists a Literal's values sorted; pydantic's messages keep the declared order,
# which ``validate`` passes down to the Literal checks of one walk.
LiteralOrders = dict[frozenset[tuple[type, Any]], tuple[Any, ...]]
_literal_orders: contextvars.ContextVar[Mapping[frozenset[tuple[type, Any]], tuple[Any, ...]]] = \
    contextvars.ContextVar("literal_orders", default=types.MappingProxyType({}))


def _literal_key(values: tuple[Any, ...]) -> frozenset[tuple[type, Any]]:
    return frozenset((type(v), v) for v in values)


def literal_orders(annotation: Any) -> LiteralOrders:
    """The declared order of the ``Literal``s reachable from ``annotation``, for ``validate``."""
    orders: LiteralOrders = {}
    for part in reachable_types(annotation):
        if typing.get_origin(part) is Literal:
            values = typing.get_args(part)
            orders[_literal_key(values)] = values
    return orders


def validate(value: Any, info: Any, loc: Loc, errors: Errors, orders: LiteralOrders) -> Any:
    """``check``, with error messages listing ``Literal`` values in their declared ``orders``."""
    token = _literal_orders.set(orders)
    try:
        return check(value, info, loc, errors)
    finally:
        _literal_orders.reset(token)


def _declared(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return _literal_orders.get().get(_literal_key(values), values)


def _check_literal(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    if any(v == value and type(v) is type(value) for v in info.values):
        return value
    expected = _expected(_declared(info.values))
    errors.append(error("literal_error", list(loc), f"Input should be {expected}", value, {"expected": expected}))
    return None


_SEQUENCE_KINDS: dict[type, tuple[str, str, str]] = {
    # info type: (error type, message, field_type in length errors)
    mi.ListType: ("list_type", "Input should be a valid list", "List"),
    mi.SetType: ("set_type", "Input should be a valid set", "Set"),
    mi.FrozenSetType: ("frozen_set_type", "Input should be a valid frozenset", "Frozenset"),
    mi.VarTupleType: ("tuple_type", "Input should be a valid tuple", "Tuple"),
}


def _length_error(kind: str, field_type: str, loc: Loc, value: Any, limit: int, actual: int | None) -> dict[str, Any]:
    bound = "min_length" if kind == "too_short" else "max_length"
    words = "at least" if kind == "too_short" else "at most"
    shown = "more" if actual is None else actual
    return error(kind, list(loc), f"{field_type} should have {words} {_plural(limit, 'item')} after validation, "
                 f"not {shown}", value, {"field_type": field_type, bound: limit, "actual_length": actual})


def _check_sequence(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    kind, message, field_type = _SEQUENCE_KINDS[type(info)]
    if type(value) is not list:
        errors.append(error(kind, list(loc), message, value))
        return None
    if info.max_length is not None and len(value) > info.max_length:
        errors.append(_length_error("too_long", field_type, loc, value, info.max_length, len(value)))
        return None
    before = len(errors)
    items = [check(item, info.item_type, [*loc, index], errors) for index, item in enumerate(value)]
    if len(errors) == before and info.min_length is not None and len(value) < info.min_length:
        errors.append(_length_error("too_short", field_type, loc, value, info.min_length, len(value)))
    return items


def _check_tuple(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    types = info.item_types if type(info) is mi.TupleType else tuple(field.type for field in info.fields)
    if type(value) is not list:
        errors.append(error("tuple_type", list(loc), "Input should be a valid tuple", value))
        return None
    if len(value) > len(types):
        errors.append(_length_error("too_long", "Tuple", loc, value, len(types), len(value)))
        return None
    items = []
    for index, item_type in enumerate(types):
        if index < len(value):
            items.append(check(value[index], item_type, [*loc, index], errors))
        elif type(info) is mi.TupleType or info.fields[index].required:
            errors.append(missing([*loc, index], value))
    return items


def _check_dict(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    if type(value) is not dict:
        errors.append(error("dict_type", list(loc), "Input should be a valid dictionary", value))
        return None
    if info.max_length is not None and len(value) > info.max_length:
        errors.append(_length_error("too_long", "Dictionary", loc, value, info.max_length, None))
        return None
    before = len(errors)
    result = {}
    for key, item in value.items():
        result[check(key, info.key_type, [*loc, key, "[key]"], errors)] = check(item, info.value_type, [*loc, key],
                                                                               errors)
    if len(errors) == before and info.min_length is not None and len(value) < info.min_length:
        errors.append(_length_error("too_short", "Dictionary", loc, value, info.min_length, len(value)))
    return result


def _not_an_object(info: Any, loc: Loc, value: Any) -> dict[str, Any]:
    if type(info) is mi.DataclassType:
        name = info.cls.__name__
        return error("dataclass_type", list(loc), f"Input should be a dictionary or an instance of {name}", value,
                     {"class_name": name})
    if type(info) is mi.TypedDictType:
        return error("dict_type", list(loc), "Input should be a valid dictionary", value)
    return error("model_attributes_type", list(loc), "Input should be a valid dictionary or object to extract fields "
                 "from", value)


def _check_object(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    tag_field = getattr(info, "tag_field", None)
    if getattr(info, "array_like", False):
        return _check_tuple(value, info, loc, errors)
    if type(value) is not dict:
        errors.append(_not_an_object(info, loc, value))
        return None
    result: dict[str, Any] = {}
    if tag_field is not None and tag_field in value:
        result[tag_field] = _check_literal(value[tag_field], mi.LiteralType((info.tag,)), [*loc, tag_field], errors)
    for field in info.fields:
        key = field.encode_name
        if key in value:
            result[key] = check(value[key], field.type, [*loc, key], errors)
        elif field.required:
            errors.append(missing([*loc, key], value))
    if getattr(info, "forbid_unknown_fields", False):
        known = {field.encode_name for field in info.fields} | {tag_field}
        for key, item in value.items():
            if key not in known:
                errors.append(error("extra_forbidden", [*loc, key], "Extra inputs are not permitted", item))
    return result


def _check_metadata(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    return check(value, info.type, loc, errors)


# Unions: pydantic reports each member's errors under the member's name (``loc`` [..., "int"]),
# except for ``X | None``, and a tagged union's under the tag value.


def _label(info: Any) -> str:
    kind = type(info)
    simple = _LABELS.get(kind)
    if simple is not None:
        return simple
    if kind in (mi.ListType, mi.SetType, mi.FrozenSetType):
        return f"{_SEQUENCE_KINDS[kind][2].lower()}[{_label(info.item_type)}]"
    if kind is mi.VarTupleType:
        return f"tuple[{_label(info.item_type)}, ...]"
    if kind is mi.TupleType:
        return "tuple[" + ", ".join(_label(item) for item in info.item_types) + "]"
    if kind is mi.DictType:
        return f"dict[{_label(info.key_type)},{_label(info.value_type)}]"
    if kind is mi.EnumType:
        return f"enum[{info.cls.__name__}]"
    if kind is mi.LiteralType:
        return "literal[" + ",".join(repr(v) for v in _declared(info.values)) + "]"
    if kind is mi.Metadata:
        return _label(info.type)
    if kind is mi.UnionType:
        return "union[" + ",".join(_label(member) for member in info.types) + "]"
    cls = getattr(info, "cls", None)
    return cls.__name__ if cls is not None else kind.__name__.removesuffix("Type").lower()


_LABELS: dict[type, str] = {
    mi.IntType: "int", mi.FloatType: "float", mi.StrType: "str", mi.BoolType: "bool", mi.BytesType: "bytes",
    mi.ByteArrayType: "bytearray", mi.DateTimeType: "datetime", mi.DateType: "date", mi.TimeType: "time",
    mi.TimeDeltaType: "timedelta", mi.UUIDType: "uuid", mi.DecimalType: "decimal", mi.NoneType: "none",
    mi.AnyType: "any",
}

# The JSON values a member takes as they are (pydantic's strict match, preferred in a union).
_EXACT: dict[type, tuple[type, ...]] = {
    mi.IntType: (int,), mi.FloatType: (float, int), mi.StrType: (str,), mi.BoolType: (bool,),
    mi.ListType: (list,), mi.SetType: (list,), mi.FrozenSetType: (list,), mi.VarTupleType: (list,),
    mi.TupleType: (list,), mi.DictType: (dict,), mi.StructType: (dict,), mi.DataclassType: (dict,),
    mi.TypedDictType: (dict,),
}


def _check_union(value: Any, info: Any, loc: Loc, errors: Errors) -> Any:
    members = [member for member in info.types if type(member) is not mi.NoneType]
    if value is None and len(members) < len(info.types):
        return None
    if len(members) == 1:
        return check(value, members[0], loc, errors)
    tag_field = _common_tag_field(members)
    if tag_field is not None:
        return _check_tagged(value, members, tag_field, loc, errors)
    # NOTE: a member that takes the value as it is wins over one that would convert it ("1" stays a str
    # in ``int | str``); when every member fails, their errors are reported in declaration order.
    failures: dict[int, Errors] = {}
    for index in sorted(range(len(members)), key=lambda i: type(value) not in _EXACT.get(type(_base(members[i])), ())):
        found: Errors = []
        result = check(value, members[index], [*loc, _label(members[index])], found)
        if not found:
            return result
        failures[index] = found
    for index in range(len(members)):
        errors.extend(failures[index])
    return None


def _base(info: Any) -> Any:
    while type(info) is mi.Metadata:
        info = info.type
    return info


def _common_tag_field(members: list[Any]) -> str | None:
    fields = {getattr(_base(member), "tag_field", None) for member in members}
    if len(fields) == 1 and all(type(_base(member)) is mi.StructType for member in members):
        return fields.pop()
    return None


def _check_tagged(value: Any, members: list[Any], tag_field: str, loc: Loc, errors: Errors) -> Any:
    if type(value) is not dict:
        errors.append(_not_an_object(_base(members[0]), loc, value))
        return None
    discriminator = repr(tag_field)
    if tag_field not in value:
        errors.append(error("union_tag_not_found", list(loc), f"Unable to extract tag using discriminator "
                            f"{discriminator}", value, {"discriminator": discriminator}))
        return None
    by_tag = {str(_base(member).tag): member for member in members}
    tag = str(value[tag_field])
    member = by_tag.get(tag)
    if member is None:
        expected = ", ".join(repr(t) for t in by_tag)
        errors.append(error("union_tag_invalid", list(loc), f"Input tag {tag!r} found using {discriminator} does not "
                            f"match any of the expected tags: {expected}", value,
                            {"discriminator": discriminator, "tag": tag, "expected_tags": expected}))
        return None
    return check(value, member, [*loc, tag], errors)


_CHECKS: dict[type, Check] = {
    mi.AnyType: _accept,
    mi.NoneType: _check_none,
    mi.BoolType: _scalar(lax_scalars.to_bool),
    mi.IntType: _check_number,
    mi.FloatType: _check_number,
    mi.StrType: _check_str,
    mi.BytesType: _check_bytes,
    mi.ByteArrayType: _check_bytes,
    mi.DateTimeType: _timezone_checked(lax_scalars.to_datetime),
    mi.TimeType: _timezone_checked(lax_scalars.to_time),
    mi.DateType: _scalar(lax_scalars.to_date),
    mi.TimeDeltaType: _scalar(lax_scalars.to_timedelta),
    mi.UUIDType: _scalar(lax_scalars.to_uuid),
    mi.DecimalType: _scalar(lax_scalars.to_decimal),
    mi.EnumType: _check_enum,
    mi.LiteralType: _check_literal,
    mi.ListType: _check_sequence,
    mi.SetType: _check_sequence,
    mi.FrozenSetType: _check_sequence,
    mi.VarTupleType: _check_sequence,
    mi.TupleType: _check_tuple,
    mi.NamedTupleType: _check_tuple,
    mi.DictType: _check_dict,
    mi.StructType: _check_object,
    mi.DataclassType: _check_object,
    mi.TypedDictType: _check_object,
    mi.UnionType: _check_union,
    mi.Metadata: _check_metadata,
}


__all__ = ["check", "error", "literal_orders", "missing", "validate"]

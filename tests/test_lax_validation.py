"""A JSON value checked against a msgspec type: pydantic's errors, all of them, and the converted value.

Compared with pydantic itself (FastAPI validates a body with
``TypeAdapter(...).validate_python(value, from_attributes=True)``) when it is
installed; the expected values of the other tests were read from pydantic 2.14.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect as mi
import pytest

from zigmund_fast.lax_validation import check, literal_orders, validate


class Color(enum.Enum):
    red = "red"
    green = "green"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Image(msgspec.Struct):
    url: str
    name: str


def errors_of(value: Any, annotation: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    check(value, mi.type_info(annotation), ["body"], found)
    return found


AGAINST_PYDANTIC: list[tuple[Any, list[Any]]] = [
    (list[int], [[1, "2", 3.0, 3.5, "3.5", "x", True, None, " 4", "1_0", "+5", "0x1", 1e20, "99999999999999999999"]]),
    (list[float], [[1, "2", "1e3", "x", True, None, " 4", "1_0", "nan", "-Infinity", ""]]),
    (list[bool], [[1, 0, 2, "yes", "off", "T", "x", None, 1.0, 0.5]]),
    (list[str], [[1, 1.5, True, None, [], {}]]),
    (list[int | str | None], [[[1], None, "a", 2.5]]),
    (dict[int, float], [{"a": 1, "2": "x"}, [1]]),
    (list[tuple[int, str]], [[[1, "a"], [1], [1, "a", 2], "x", ["x", 1]]]),
    (list[frozenset[int]], [[[1, "a"], "x"]]),
    (list[datetime], [["2018-12-22T14:00:00+00:00", "2018-12-22", "yesterday", "", 1700000000, "2018-13-01",
                       "2018-12-22T25:00", None]]),
    (list[date], [["2018-12-22", "2018-12-22T10:00:00", "x", 86400, 1.5]]),
    (list[time], [["15:30:00", "15", "25:00", 3600, None, "15:30:00+01"]]),
    (list[timedelta], [[300, "PT5M", "300", "1 day, 1:00:00", "x", None, "P", "PTT1H", "P1H"]]),
    (list[Color], [["red", "blue", 1]]),
    (list[Literal["a", "b"]], [["a", "c", 1]]),
    (list[Point], [[{"x": 1}, {"x": "a", "y": 2}, 3]]),
    (Annotated[list[int], msgspec.Meta(min_length=1, max_length=2)], [[], [1, 2, 3], ["x"]]),
    (Annotated[dict[str, int], msgspec.Meta(min_length=1, max_length=2)], [{}, {"a": 1, "b": 2, "c": 3}]),
]


def _pydantic_type(annotation: Any) -> Any:
    from pydantic import Field

    if getattr(annotation, "__metadata__", None):
        meta = annotation.__metadata__[0]
        bounds = {key: getattr(meta, key) for key in ("min_length", "max_length") if getattr(meta, key) is not None}
        return Annotated[annotation.__origin__, Field(**bounds)]
    return annotation


@pytest.mark.parametrize(("annotation", "values"), AGAINST_PYDANTIC)
def test_errors_match_pydantic(annotation: Any, values: list[Any]) -> None:
    pydantic = pytest.importorskip("pydantic")
    adapter = pydantic.TypeAdapter(_pydantic_type(annotation))
    for value in values:
        try:
            adapter.validate_python(value, from_attributes=True)
            expected: list[Any] = []
        except pydantic.ValidationError as exc:
            expected = [{"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"], "input": e["input"],
                         **({"ctx": e["ctx"]} if e.get("ctx") else {})} for e in exc.errors(include_url=False)]
        found = errors_of(value, annotation)
        assert json.loads(json.dumps(found, default=str)) == json.loads(json.dumps(expected, default=str)), value


def test_accepted_values_come_back_converted() -> None:
    found: list[dict[str, Any]] = []
    info = mi.type_info(dict[str, datetime | int])
    assert check({"a": "2018-12-22", "b": " 7 "}, info, ["body"], found) == {"a": datetime(2018, 12, 22), "b": 7}
    assert found == []
    assert msgspec.convert({"url": "u", "name": "n"}, Image) == Image("u", "n")


def test_union_member_labels() -> None:
    def labels(value: Any, annotation: Any) -> list[Any]:
        return list(dict.fromkeys(error["loc"][1] for error in errors_of(value, annotation)))

    assert labels({"x": "y"}, list[int] | Color | Image) == ["list[int]", "enum[Color]", "Image"]
    assert labels("x", tuple[int, str] | dict[str, int] | None) == ["tuple[int, str]", "dict[str,int]"]
    # msgspec lists a Literal's values sorted; pydantic as declared
    annotation = Literal["b", 1] | float
    found: list[dict[str, Any]] = []
    validate([1], mi.type_info(annotation), ["body"], found, literal_orders(annotation))
    assert [error["loc"][1] for error in found] == ["literal['b',1]", "float"]
    assert found[0]["msg"] == "Input should be 'b' or 1"


def test_a_forbidding_struct_reports_unknown_fields_after_its_own() -> None:
    class Strict(msgspec.Struct, forbid_unknown_fields=True):
        a: int

    assert errors_of({"b": 1, "a": "x"}, Strict) == [
        {"type": "int_parsing", "loc": ["body", "a"],
         "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "x"},
        {"type": "extra_forbidden", "loc": ["body", "b"], "msg": "Extra inputs are not permitted", "input": 1},
    ]

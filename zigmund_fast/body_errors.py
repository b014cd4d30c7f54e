"""JSON request bodies in FastAPI's vocabulary, for the requests msgspec's fast decode refused.

A body parameter's success path is one ``msgspec.json.Decoder(T, strict=False)``
decode. Only when it fails does a request come here: the document is read
again with the standard library's ``json`` (as FastAPI does, so a syntax
error is ``json_invalid`` at the same character offset), and the value is
checked against the type (``zigmund_fast.lax_validation``), reporting every
error at once with pydantic's ``type``, ``loc``, ``msg``, ``input`` and
``ctx``; a value pydantic accepts and msgspec does not is accepted after all.

It also decides, from the ``content-type``, whether a body is JSON at all, and
builds the ``RequestValidationError`` (with FastAPI's ``body``) of a request.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import msgspec
import msgspec.inspect as mi

from zigmund_fast.exceptions import HTTPException, RequestValidationError
from zigmund_fast.lax_validation import error, literal_orders
from zigmund_fast.lax_validation import validate as check_value
from zigmund_fast.pydantic_compat import is_pydantic_model
from zigmund_fast.pydantic_compat import validate as validate_pydantic

if typing.TYPE_CHECKING:
    from zigmund_fast.requests import Request

Errors = list[dict[str, Any]]
Loc = list[Any]


# Content types.

_JSON_MEDIA_TYPES: dict[bytes, bool] = {}


def _media_is_json(value: bytes) -> bool:
    media = value.split(b";", 1)[0].strip().lower().decode("latin-1")
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def is_json_request(request: Request) -> bool:
    """Whether the request's ``content-type`` is JSON (``application/json``, ``application/*+json``).

    As in FastAPI, a body without a content type is not read as JSON.
    """
    for name, value in request.raw_headers:
        if name == b"content-type":
            known = _JSON_MEDIA_TYPES.get(value)
            if known is None:
                known = _media_is_json(value)
                if len(_JSON_MEDIA_TYPES) < 512:  # PERF: a client sends few distinct values
                    _JSON_MEDIA_TYPES[value] = known
            return known
    return False


def load_json(raw: bytes, errors: Errors) -> Any:
    """``raw`` parsed as FastAPI parses it; ``INVALID`` with a ``json_invalid`` error if it is not JSON."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        errors.append(error("json_invalid", ["body", exc.pos], "JSON decode error", {}, {"error": exc.msg}))
        return INVALID
    except ValueError:  # not UTF-8 (or -16/-32): FastAPI answers 400 too
        raise HTTPException(400, "There was an error parsing the body") from None


INVALID: Any = type("InvalidJSON", (), {"__repr__": lambda self: "<invalid JSON>"})()
_decode_any = msgspec.json.Decoder().decode


def embedded_body(request: Request, errors: Errors) -> tuple[dict[str, Any] | None, bool]:
    """The JSON object whose keys are the request's embedded body parameters, parsed once per request.

    Returns (the object, whether every parameter counts as missing): ``{}`` for an
    empty body or one that is not JSON (required parameters are missing, the
    others take their defaults); None for malformed JSON (its ``json_invalid``
    error appended once); and, as in FastAPI, every parameter missing when the
    JSON is not an object.
    """
    state = request.state
    parsed = state.get("_json_body")
    if parsed is None:
        raw = request._body
        if not raw or not is_json_request(request):
            parsed = ({}, False)
        else:
            try:
                value = _decode_any(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                value = load_json(raw, errors)
            if value is INVALID:
                parsed = (None, False)
            else:
                parsed = (value, False) if type(value) is dict else ({}, True)
        state["_json_body"] = parsed
    return parsed  # type: ignore[no-any-return]


class BodyShape:
    """How one body parameter's value is validated once msgspec's fast conversion refused it.

    Parameters:
        annotation: the parameter's type (a msgspec-supported type, or a pydantic model,
            possibly ``| None``).
    """

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation
        model, nullable = annotation, False
        args = typing.get_args(annotation)
        if type(None) in args and len(args) == 2:
            model, nullable = next(a for a in args if a is not type(None)), True
        self.pydantic_model = model if is_pydantic_model(model) else None
        self._nullable = nullable
        self._info: Any = None
        self._literal_orders: dict[Any, tuple[Any, ...]] = {}

    def decoder(self) -> msgspec.json.Decoder[Any]:
        """The fast path: msgspec in lax mode (numeric strings, numbers of seconds for a timedelta)."""
        return msgspec.json.Decoder(Any if self.pydantic_model is not None else self.annotation, strict=False)

    def convert(self, value: Any, loc: Loc, errors: Errors) -> Any:
        """``value`` (a part of a parsed body) as the parameter's type, or None with errors appended."""
        if self.pydantic_model is None:
            try:
                return msgspec.convert(value, self.annotation, strict=False)
            except msgspec.ValidationError:
                pass
        return self.validate(value, loc, errors)

    def validate(self, value: Any, loc: Loc, errors: Errors) -> Any:
        """The slow path: every error of ``value`` under ``loc``, else the converted value."""
        if self.pydantic_model is not None:
            if value is None and self._nullable:
                return None
            model, invalid = validate_pydantic(self.pydantic_model, value)
            for entry in invalid or ():
                entry["loc"] = [*loc, *entry["loc"][1:]]
                errors.append(entry)
            return model
        if self._info is None:
            self._info = mi.type_info(self.annotation)
            self._literal_orders = literal_orders(self.annotation)
        found: Errors = []
        normalized = check_value(value, self._info, loc, found, self._literal_orders)
        if found:
            errors.extend(found)
            return None
        try:
            return msgspec.convert(normalized, self.annotation, strict=False)
        except msgspec.ValidationError as exc:  # a type this walk reads more loosely than msgspec does
            errors.append(_msgspec_error(exc, value, loc))
            return None


def _msgspec_error(exc: msgspec.ValidationError, value: Any, loc: Loc) -> dict[str, Any]:
    """A msgspec error this walk did not foresee, located as msgspec says, with the input found there."""
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:
        message, where = str(exc), ""
    path = list(loc)
    current = value
    for part in where.rstrip("`").removeprefix("$").replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        step: Any = int(part) if part.isdigit() else part
        path.append(step)
        try:
            current = current[step]
        except (KeyError, IndexError, TypeError):
            current = None
    return error("value_error", path, f"Value error, {message}", current, {"error": message})


# The error a request answers with.


def received_body(request: Request) -> Any:
    """What FastAPI's ``RequestValidationError.body`` holds: the parsed JSON body (the raw bytes of a
    body that is not JSON, the text of a malformed one), or None for a route without a body."""
    plan = getattr(request.route, "plan", None)
    if plan is None or not any(spec.location == "body" for spec in plan.params):
        return None
    raw = request._body
    if not raw:
        return None
    if not is_json_request(request):
        return raw
    try:
        return json.loads(raw)
    except ValueError as exc:
        return getattr(exc, "doc", raw)


def validation_error(request: Request, errors: Errors) -> RequestValidationError:
    """The request's ``RequestValidationError``: a malformed JSON body is its only error, as in FastAPI."""
    malformed = [entry for entry in errors if entry.get("type") == "json_invalid"]
    return RequestValidationError(malformed or errors, body=received_body(request))


__all__ = ["INVALID", "BodyShape", "embedded_body", "is_json_request", "load_json", "received_body", "validation_error"]

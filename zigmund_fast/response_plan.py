"""What a route does with its handler's return value, decided once when the route is registered.

``response_model=`` filters and validates the value against a model (msgspec
``Struct``, dataclass, ``TypedDict``, any msgspec-convertible type, or a
pydantic model when pydantic is installed); ``response_class=`` wraps it in a
response class; a ``response: Response`` parameter lends the handler a
response whose status and headers are applied to the outgoing one; and a
generator handler streams (JSON lines by default, server-sent events with
``response_class=EventSourceResponse``). A route that uses none of these keeps
the app's plain conversion: ``shape_finish`` returns its ``finish`` unchanged.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from zigmund_fast.exceptions import ResponseValidationError
from zigmund_fast.response_fields import encoded_names, pick_fields
from zigmund_fast.responses import JSONResponse, Response, raw_response
from zigmund_fast.sse import EventSourceResponse, ServerSentEvent, format_event
from zigmund_fast.streaming import StreamingResponse, as_async_iterator

Finish = Callable[[Any, Any], Response]

# add_route's default for response_model: "use the return annotation", as FastAPI's Default(None).
FROM_ANNOTATION: Any = type("FromAnnotation", (), {"__repr__": lambda self: "<from the return annotation>"})()

_json_encode = msgspec.json.Encoder().encode
_ITERABLE_ORIGINS = frozenset({
    collections.abc.AsyncIterable, collections.abc.AsyncIterator, collections.abc.AsyncGenerator,
    collections.abc.Iterable, collections.abc.Iterator, collections.abc.Generator,
})
SUB_RESPONSE_KEY = "_response"


def is_generator_handler(endpoint: Callable[..., Any]) -> bool:
    """Whether the handler ``yield``s (sync or async), so that its value is a stream of items."""
    if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return True
    if inspect.isroutine(endpoint) or isinstance(endpoint, type):
        return False
    call = type(endpoint).__call__  # an instance with a generator __call__
    return inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call)


def _return_annotation(endpoint: Callable[..., Any]) -> Any:
    try:
        return typing.get_type_hints(endpoint).get("return")
    except (NameError, TypeError, AttributeError):  # an annotation that can't be resolved is not used
        return None


def involves_model(annotation: Any) -> bool:
    """Whether ``annotation`` mentions a model class (``Item``, ``list[Item]``, ``Item | None``...)."""
    if isinstance(annotation, type):
        if issubclass(annotation, (Response, ServerSentEvent)):
            return False
        return (issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation)
                or typing.is_typeddict(annotation) or _is_pydantic_model(annotation))
    return any(involves_model(arg) for arg in typing.get_args(annotation))


def _is_pydantic_model(annotation: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # a pydantic model exists only if pydantic was imported
    return pydantic is not None and isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


def _involves_pydantic(annotation: Any) -> bool:
    return _is_pydantic_model(annotation) or any(_involves_pydantic(a) for a in typing.get_args(annotation))


def resolve_response_model(endpoint: Callable[..., Any], response_model: Any) -> Any:
    """The model to filter with: the one given, else a return annotation that names a model, else None.

    ``response_model=None`` turns the inference off. Annotations such as
    ``dict`` or ``str`` are not used: they would filter nothing, and the route
    keeps the plain (fastest) conversion.
    """
    if response_model is not FROM_ANNOTATION:
        return response_model
    if is_generator_handler(endpoint):
        return None  # a generator's annotation describes its items (see stream_item_type)
    annotation = _return_annotation(endpoint)
    return annotation if annotation is not None and involves_model(annotation) else None


def stream_item_type(endpoint: Callable[..., Any]) -> Any:
    """For a generator handler annotated ``-> AsyncIterable[Item]`` (or Iterator, Generator...): ``Item``."""
    if not is_generator_handler(endpoint):
        return None
    annotation = _return_annotation(endpoint)
    if typing.get_origin(annotation) in _ITERABLE_ORIGINS and typing.get_args(annotation):
        item = typing.get_args(annotation)[0]
        if involves_model(item):
            return item
    return None


def default_status(response_class: Any) -> int | None:
    """The ``status_code`` default of a response class's constructor (307 for ``RedirectResponse``)."""
    try:
        parameter = inspect.signature(response_class).parameters.get("status_code")
    except (TypeError, ValueError):
        return None
    if parameter is not None and isinstance(parameter.default, int):
        return parameter.default
    return None


def check_response_class(response_class: Any, where: str) -> None:
    if response_class is not None and not (isinstance(response_class, type) and issubclass(response_class, Response)):
        raise TypeError(f"{where}: response_class must be a Response subclass, got {response_class!r}")


class ModelSerializer:
    """Validates a return value against ``model`` and keeps only the model's fields."""

    def __init__(self, model: Any, *, exclude_unset: bool = False, exclude_none: bool = False,
                 include: frozenset[str] | None = None, exclude: frozenset[str] | None = None,
                 where: str = "route") -> None:
        self.model = model
        self.exclude_unset = exclude_unset
        self.exclude_none = exclude_none
        # response_model_include / _exclude (see zigmund_fast.response_fields), as the encoded names.
        self.include = encoded_names(model, include)
        self.exclude = encoded_names(model, exclude)
        self._picks = include is not None or exclude is not None
        self.where = where
        self._adapter: Any = None
        self._fill_defaults = _involves_dataclass(model)
        if _involves_pydantic(model):
            import pydantic

            self._adapter = pydantic.TypeAdapter(model)
        else:
            try:
                msgspec.json.Decoder(model)
            except TypeError as exc:
                raise TypeError(f"{where}: response_model {model!r} is not a type msgspec can validate: {exc}") \
                    from None

    def to_json(self, value: Any) -> bytes:
        """The filtered value as JSON bytes (the fast path when no response class wraps it)."""
        if self._adapter is not None:
            adapter = self._adapter
            return adapter.dump_json(self._validate_pydantic(value), by_alias=True,  # type: ignore[no-any-return]
                                     exclude_unset=self.exclude_unset, exclude_none=self.exclude_none,
                                     include=self.include, exclude=self.exclude)
        if not (self.exclude_unset or self.exclude_none or self._picks):
            return _json_encode(self._validate(value))
        return _json_encode(self.to_builtins(value))

    def to_builtins(self, value: Any) -> Any:
        """The filtered value as dicts, lists and scalars (for a response class to encode)."""
        if self._adapter is not None:
            return self._adapter.dump_python(self._validate_pydantic(value), mode="json", by_alias=True,
                                             exclude_unset=self.exclude_unset, exclude_none=self.exclude_none,
                                             include=self.include, exclude=self.exclude)
        data = msgspec.to_builtins(self._validate(value))
        if self.exclude_unset:
            data = _only_given(data, value)
        if self.exclude_none:
            data = _without_none(data)
        if self._picks:
            data = pick_fields(data, self.include, self.exclude)
        return data

    def _validate(self, value: Any) -> Any:
        try:
            result = msgspec.convert(value, self.model, from_attributes=True, strict=False)
        except msgspec.ValidationError as exc:
            try:
                # NOTE: objects (Structs, dataclasses) inside the value can't become a TypedDict
                # or a dict directly; their plain form can.
                result = msgspec.convert(msgspec.to_builtins(value), self.model, strict=False)
            except (msgspec.ValidationError, TypeError):
                raise ResponseValidationError(_response_errors(str(exc), value), self.where) from None
        if self._fill_defaults:
            _fill_dataclass_defaults(result)
        return result

    def _validate_pydantic(self, value: Any) -> Any:
        import pydantic

        try:
            return self._adapter.validate_python(value, from_attributes=True)
        except pydantic.ValidationError as exc:
            errors = [{"type": e["type"], "loc": ["response", *e["loc"]], "msg": e["msg"], "input": e.get("input")}
                      for e in exc.errors()]
            raise ResponseValidationError(errors, self.where) from None


def _involves_dataclass(annotation: Any) -> bool:
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return True
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return any(_involves_dataclass(field.type) for field in msgspec.structs.fields(annotation))
    return any(_involves_dataclass(arg) for arg in typing.get_args(annotation))


def _fill_dataclass_defaults(value: Any) -> None:
    """Store defaults on dataclass instances made by msgspec.convert.

    NOTE: msgspec leaves a plain default (``price: float = 2.0``) on the class
    instead of the instance, and its encoder then omits the field.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        attributes = getattr(value, "__dict__", None)
        for field in dataclasses.fields(value):
            if attributes is not None and field.name not in attributes and hasattr(value, field.name):
                attributes[field.name] = getattr(value, field.name)
            _fill_dataclass_defaults(getattr(value, field.name, None))
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _fill_dataclass_defaults(getattr(value, name))
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _fill_dataclass_defaults(item)
    elif isinstance(value, dict):
        for item in value.values():
            _fill_dataclass_defaults(item)


def _response_errors(message: str, value: Any) -> list[dict[str, Any]]:
    loc: list[Any] = ["response"]
    text, sep, where = message.rpartition(" - at `")
    if sep:
        message = text
        for part in where.rstrip("`").removeprefix("$").replace("[", ".").replace("]", "").split("."):
            if part:
                loc.append(int(part) if part.isdigit() else part)
    return [{"type": "model_attributes_type" if "Expected" in message else "value_error", "loc": loc,
             "msg": message, "input": value}]


def _only_given(data: Any, given: Any) -> Any:
    """Keep, at every level, only the keys the handler's value had (``exclude_unset`` for plain dicts).

    A returned object (Struct, dataclass) counts as having set all its fields:
    msgspec does not record which ones were passed (default a field to
    ``msgspec.UNSET`` to leave it out).
    """
    if isinstance(data, dict):
        if isinstance(given, Mapping):
            return {key: _only_given(item, given[key]) for key, item in data.items() if key in given}
        return {key: _only_given(item, getattr(given, key, item)) for key, item in data.items()}
    if isinstance(data, list) and isinstance(given, (list, tuple)) and len(data) == len(given):
        return [_only_given(item, source) for item, source in zip(data, given)]
    return data


def _without_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _without_none(item) for key, item in data.items() if item is not None}
    if isinstance(data, list):
        return [_without_none(item) for item in data]
    return data


def _apply_sub_response(request: Any, response: Response) -> None:
    """Status and headers a handler set on its ``response: Response`` parameter go onto ``response``."""
    state = request.state
    sub = state.get(SUB_RESPONSE_KEY) if state is not None else None
    if sub is None:
        return
    if sub.status_code is not None:
        response.status_code = sub.status_code
    if sub._headers is not None:
        response.headers._items.extend(sub._headers._items)


def _item_encoder(item_type: Any, where: str) -> Callable[[Any], bytes]:
    """JSON for one streamed item, validated against ``item_type`` when the handler declares one."""
    if item_type is None:
        return _json_encode
    return ModelSerializer(item_type, where=where).to_json


def _stream_converter(
    endpoint: Callable[..., Any], response_class: Any, status: int | None, where: str,
) -> Callable[[Any], Response]:
    """A generator handler's value (the generator) as a streamed response."""
    encode = _item_encoder(stream_item_type(endpoint), where)
    status_args: dict[str, Any] = {} if status is None else {"status_code": status}

    if response_class is not None and issubclass(response_class, EventSourceResponse):

        def as_event(item: Any) -> bytes:
            if isinstance(item, ServerSentEvent):
                return item.encode()
            return format_event(data=encode(item).decode("utf-8"))

        return lambda gen: response_class(gen, encode=as_event, **status_args)

    if response_class is None or issubclass(response_class, JSONResponse):

        async def json_lines(gen: Any) -> Any:
            items = as_async_iterator(gen)
            try:
                async for item in items:
                    yield encode(item) + b"\n"
            finally:
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()

        return lambda gen: StreamingResponse(json_lines(gen), media_type="application/jsonl", **status_args)

    return lambda gen: response_class(gen, **status_args)


def _value_converter(
    serializer: ModelSerializer | None, response_class: Any, status: int | None, route_status: int,
    to_response: Callable[[Any], Response],
) -> Callable[[Any], Response]:
    if response_class is None:
        if serializer is None:
            return to_response
        to_json = serializer.to_json
        return lambda value: raw_response(to_json(value), route_status, "application/json")
    status_args: dict[str, Any] = {} if status is None else {"status_code": status}
    if serializer is None:
        return lambda value: response_class(value, **status_args)
    to_builtins = serializer.to_builtins
    return lambda value: response_class(to_builtins(value), **status_args)


def shape_finish(
    route: Any, finish: Finish, on_error: Callable[[Any, BaseException], Response],
    to_response: Callable[[Any], Response],
) -> Finish:
    """``finish`` preceded by the route's response plan; ``finish`` itself when the route has none.

    ``route.options`` carries what ``add_route`` resolved: ``response_model``,
    ``response_model_exclude_unset``, ``response_model_exclude_none``,
    ``response_class`` and ``status_code_given``. A value that already is a
    ``Response`` passes through untouched (as in FastAPI, the ``response``
    parameter's headers then don't apply).
    """
    options = route.options
    model = options.get("response_model")
    response_class = options.get("response_class")
    uses_response = getattr(route.plan, "uses_response", False)
    streams = is_generator_handler(route.endpoint)
    if model is None and response_class is None and not uses_response and not streams:
        return finish
    where = f"route {'|'.join(route.methods)} {route.path}"
    status = options.get("status_code_given")
    if streams:
        convert = _stream_converter(route.endpoint, response_class, status, where)
    else:
        serializer = None if model is None else ModelSerializer(
            model, exclude_unset=bool(options.get("response_model_exclude_unset")),
            exclude_none=bool(options.get("response_model_exclude_none")),
            include=options.get("response_model_include"), exclude=options.get("response_model_exclude"),
            where=where,
        )
        convert = _value_converter(serializer, response_class, status, route.status_code, to_response)

    def finish_shaped(request: Any, value: Any) -> Response:
        if isinstance(value, Response):
            return finish(request, value)
        try:
            response = convert(value)
            if uses_response:
                _apply_sub_response(request, response)
        except Exception as exc:  # noqa: BLE001 - the app's error handling decides (500, custom handlers)
            return on_error(request, exc)
        return finish(request, response)

    return finish_shaped


def response_media_type(response_class: Any) -> str | None:
    """The media type a response class sends (for OpenAPI); JSON when no class is given."""
    if response_class is None:
        return "application/json"
    return response_class.default_media_type  # type: ignore[no-any-return]

__all__ = [
    "FROM_ANNOTATION",
    "ModelSerializer",
    "check_response_class",
    "default_status",
    "involves_model",
    "is_generator_handler",
    "resolve_response_model",
    "response_media_type",
    "shape_finish",
    "stream_item_type",
]

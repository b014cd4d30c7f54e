"""Handler signatures turned, once at registration, into a plan the request path only executes.

``build_plan`` inspects a handler and returns a ``ParamSpec`` per parameter
(for OpenAPI) and an extractor per parameter (for requests). Nothing here
runs ``inspect.signature`` per request.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Union

import msgspec

from zigmund_fast import lax_scalars
from zigmund_fast import params as markers
from zigmund_fast._impl import DirectCall, ScalarParam, new_tasks
from zigmund_fast.background import BackgroundTasks
from zigmund_fast.body_errors import (
    INVALID,
    BodyShape,
    embedded_body,
    is_json_request,
    load_json,
)
from zigmund_fast.exceptions import HTTPException
from zigmund_fast.forms import FormData, FormError, UploadFile, parse_form
from zigmund_fast.pydantic_compat import is_pydantic_model
from zigmund_fast.requests import QueryParams, Request
from zigmund_fast.responses import Response, raw_response
from zigmund_fast.websockets import WebSocket

Errors = list[dict[str, Any]]
Extractor = Callable[[Request, Errors], Any]

_UNSET: Any = markers._UNSET
_NONE_TYPE = type(None)


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One handler parameter as seen from the outside (the OpenAPI view)."""

    name: str
    alias: str
    location: str  # "path" | "query" | "header" | "cookie" | "body"
    annotation: Any
    required: bool
    default: Any = None
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True
    embed: bool = False
    constraints: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class InjectionPlan:
    params: tuple[ParamSpec, ...]
    extractors: tuple[tuple[str, Extractor], ...]
    is_async: bool
    # A parameter annotated `Response` (its status and headers go onto the outgoing response).
    uses_response: bool = False
    # ``x = Depends(f)`` parameters and ``SecurityScopes`` parameters, resolved by zigmund_fast.dependencies.
    depends: tuple[tuple[str, markers.Depends], ...] = ()
    security_scopes_params: tuple[str, ...] = ()
    # Set on a route's plan when it has dependencies: the DependencyGraph the request path runs
    # instead of ``extractors`` (``params`` then lists the dependencies' parameters too).
    graph: Any = None
    # (security scheme, required scopes) pairs, for the OpenAPI document.
    security: tuple[tuple[Any, tuple[str, ...]], ...] = ()


class _Invalid(Exception):
    def __init__(self, type_: str, msg: str, ctx: dict[str, Any] | None = None) -> None:
        self.type = type_
        self.msg = msg
        self.ctx = ctx


# Scalar converters: str -> value, raising _Invalid with FastAPI's error vocabulary.


def _to_str(raw: str) -> str:
    return raw


def _to_int(raw: str) -> int:
    text = raw[1:] if raw[:1] in "+-" else raw
    if not text.isdigit() or not text.isascii():
        raise _Invalid("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
    try:
        return int(raw)
    except ValueError:  # past Python's int-from-str digit limit (4300), as pydantic reports it
        raise _Invalid("int_parsing_size",
                       "Unable to parse input string as an integer, exceeded maximum size") from None


def _to_float(raw: str) -> float:
    try:
        if "_" in raw or raw != raw.strip():
            raise ValueError
        return float(raw)
    except ValueError:
        raise _Invalid("float_parsing", "Input should be a valid number, unable to parse string as a number") from None


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _to_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _Invalid("bool_parsing", "Input should be a valid boolean, unable to interpret input")


def _to_uuid(raw: str) -> uuid.UUID:
    """pydantic's UUID rules and wording (lax_scalars), e.g. "invalid character: found `n` at 0"."""
    try:
        return lax_scalars.to_uuid(raw)
    except lax_scalars.LaxError as exc:
        raise _Invalid(exc.type, exc.msg, exc.ctx) from None


SCALAR_CONVERTERS: dict[Any, Callable[[str], Any]] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    uuid.UUID: _to_uuid,
}


def scalar_converter(annotation: Any) -> Callable[[str], Any] | None:
    """The str -> value converter for a path/query/header/cookie/form type, or None if it has none."""
    converter = SCALAR_CONVERTERS.get(annotation)
    if converter is None and isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        converter = SCALAR_CONVERTERS[annotation] = _enum_converter(annotation)
    return converter


def _enum_converter(enum_type: type[enum.Enum]) -> Callable[[str], Any]:
    by_value = {str(member.value): member for member in enum_type}
    quoted = [repr(str(value)) for value in by_value]
    expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def to_enum(raw: str) -> Any:
        member = by_value.get(raw)
        if member is None:
            raise _Invalid("enum", f"Input should be {expected}", {"expected": expected})
        return member

    return to_enum


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``int | None`` -> (int, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not _NONE_TYPE]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _split_annotated(annotation: Any) -> tuple[Any, markers.Param | None]:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        for extra in extras:
            if isinstance(extra, markers.Param):
                return base, extra
        return base, None
    return annotation, None


def _is_body_type(annotation: Any) -> bool:
    if annotation in (dict, list) or typing.get_origin(annotation) in (dict, list):
        return True
    if typing.get_origin(annotation) in (Union, types.UnionType):  # ``Cat | Dog``: a body, as in FastAPI
        return any(_is_body_type(arg) for arg in typing.get_args(annotation) if arg is not _NONE_TYPE)
    if isinstance(annotation, type):
        return issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation) or (
            typing.is_typeddict(annotation) or is_pydantic_model(annotation)
        )
    return False


def build_plan(endpoint: Callable[..., Any], path_params: set[str], *, embed_body: bool = False) -> InjectionPlan:
    """Analyse ``endpoint`` once; raise ``TypeError`` with a readable message for what can't be injected.

    ``embed_body`` reads a lone body parameter as a key of the JSON object (set when
    dependencies declare body parameters too, as FastAPI does).
    """
    name = getattr(endpoint, "__qualname__", None) or getattr(type(endpoint), "__qualname__", repr(endpoint))
    try:
        signature = inspect.signature(endpoint)
        hints = _type_hints(endpoint)
    except (NameError, TypeError) as exc:
        raise TypeError(f"cannot read the signature of handler {name}: {exc}") from exc

    specs: list[ParamSpec] = []
    uses_response = False
    extractors: list[tuple[str, Extractor]] = []
    body_params: list[tuple[str, Any, markers.Param | None, Any]] = []
    seen_path: set[str] = set()
    depends: list[tuple[str, markers.Depends]] = []
    scopes_params: list[str] = []

    for param in signature.parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"handler {name}: *args/**kwargs parameters can't be injected ({param.name})")
        dependency = _depends_marker(hints.get(param.name), param.default)
        if dependency is not None:
            depends.append((param.name, dependency))
            continue
        annotation, marker = _split_annotated(hints.get(param.name, str))
        default = param.default
        if isinstance(default, markers.Param):
            marker, default = default, default.default
        if default is inspect.Parameter.empty:
            default = _UNSET

        if isinstance(annotation, type) and issubclass(annotation, Request):
            extractors.append((param.name, _extract_request))
            continue
        if isinstance(annotation, type) and issubclass(annotation, WebSocket):
            extractors.append((param.name, extract_websocket))
            continue
        if isinstance(annotation, type) and issubclass(annotation, BackgroundTasks):
            extractors.append((param.name, _extract_tasks))
            continue
        if isinstance(annotation, type) and issubclass(annotation, markers.SecurityScopes):
            scopes_params.append(param.name)
            continue
        if isinstance(annotation, type) and issubclass(annotation, Response):
            extractors.append((param.name, _extract_response))
            uses_response = True
            continue

        base, optional = _unwrap_optional(annotation)
        if param.name in path_params and (marker is None or marker.location == "path"):
            location = "path"
        elif marker is not None:
            location = marker.location
        elif _is_upload(base):
            location = "form"
        elif _is_body_type(base):
            location = "body"
        else:
            location = "query"

        if location == "body":
            body_params.append((param.name, annotation, marker, default))
            continue
        if location == "form":
            specs.append(_form_param(name, param.name, base, optional, marker, default, extractors))
            continue

        if base is list and location in ("query", "header"):
            base = list[str]  # a bare list: repeated values as strings, as in FastAPI
        many = typing.get_origin(base) is list and location in ("query", "header")
        item_type = typing.get_args(base)[0] if many and typing.get_args(base) else str
        converter = scalar_converter(item_type if many else base)
        if converter is None:
            raise TypeError(
                f"handler {name}: parameter {param.name!r} has type {base!r}, which can't be read from the "
                f"{location}; use str, int, float, bool or uuid.UUID (or a body model)"
            )
        alias = (marker.alias if marker is not None else None) or param.name
        if location == "header" and marker is not None and marker.alias is None:
            if getattr(marker, "convert_underscores", True):
                alias = param.name.replace("_", "-")
        if location == "path":
            if param.name not in path_params:
                raise TypeError(f"handler {name}: Path parameter {param.name!r} is not in the route's path")
            seen_path.add(param.name)
            default, optional = _UNSET, False
        required = default is _UNSET and not optional
        if default is _UNSET and optional:
            default = None
        constraints = marker.constraints if marker is not None else {}
        if constraints:
            converter = _constrained(converter, constraints, name, param.name)
        specs.append(ParamSpec(
            name=param.name, alias=alias, location=location, annotation=base, required=required,
            default=None if required else default,
            description=marker.description if marker else None,
            deprecated=marker.deprecated if marker else False,
            include_in_schema=marker.include_in_schema if marker else True,
            constraints=tuple(constraints.items()),
        ))
        make = _list_extractor if many else _scalar_extractor
        extractors.append((param.name, make(location, alias, converter, required, default)))

    missing = path_params - seen_path
    for path_name in sorted(missing):
        # NOTE: like FastAPI, a path placeholder the handler doesn't take is still documented.
        specs.append(ParamSpec(name=path_name, alias=path_name, location="path", annotation=str, required=True))

    if body_params:
        embed = embed_body or len(body_params) > 1 or any(getattr(m, "embed", False) for _, _, m, _ in body_params)
        for pname, annotation, marker, default in body_params:
            alias = (marker.alias if marker is not None else None) or pname
            required = default is _UNSET
            specs.append(ParamSpec(
                name=pname, alias=alias, location="body", annotation=annotation, required=required,
                default=None if required else default,
                description=marker.description if marker else None, embed=embed,
            ))
        extractors.extend(_body_extractors(body_params, embed))

    is_async = inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(
        getattr(endpoint, "__call__", None)
    )
    return InjectionPlan(params=tuple(specs), extractors=tuple(extractors), is_async=is_async,
                         uses_response=uses_response, depends=tuple(depends),
                         security_scopes_params=tuple(scopes_params))


def _type_hints(call: Any) -> dict[str, Any]:
    """The annotations of what ``inspect.signature(call)`` describes: ``__init__`` for a class,
    ``__call__`` for a callable instance."""
    while isinstance(call, functools.partial):
        call = call.func
    if isinstance(call, type):
        hints = dict(typing.get_type_hints(call, include_extras=True))
        init = call.__init__
        if init is not object.__init__:
            try:
                hints.update(typing.get_type_hints(init, include_extras=True))
            except (NameError, TypeError):  # e.g. a dataclass __init__: the class annotations already say it
                pass
        return hints
    if not inspect.isfunction(call) and not inspect.ismethod(call) and callable(call):
        method = getattr(call, "__call__", None)  # noqa: B004 - the bound method, not a callable() test
        if inspect.ismethod(method):
            return typing.get_type_hints(method, include_extras=True)
    return typing.get_type_hints(call, include_extras=True)


def _depends_marker(hint: Any, default: Any) -> markers.Depends | None:
    """The ``Depends`` a parameter declares (as its default or in ``Annotated``), with its callable filled in."""
    marker = default if isinstance(default, markers.Depends) else None
    base = hint
    if typing.get_origin(hint) is Annotated:
        base, *extras = typing.get_args(hint)
        for extra in extras:
            if isinstance(extra, markers.Depends):
                marker = extra
    if marker is None or marker.dependency is not None:
        return marker
    # ``commons: Annotated[CommonQueryParams, Depends()]``: the annotation is the dependency.
    if not callable(base):
        raise TypeError(f"Depends() without a callable needs a callable annotation, got {base!r}")
    if isinstance(marker, markers.Security):
        return markers.Security(base, scopes=marker.scopes, use_cache=marker.use_cache, scope=marker.scope)
    return markers.Depends(base, use_cache=marker.use_cache, scope=marker.scope)


def _extract_request(request: Request, errors: Errors) -> Request:
    return request


def extract_websocket(request: Request, errors: Errors) -> WebSocket:
    """The WebSocket of a WebSocket route's upgrade request (the connection puts it in ``request.state``)."""
    state = request.state
    websocket = state.get("_websocket") if state is not None else None
    if websocket is None:
        raise TypeError("a WebSocket parameter is only available in @app.websocket routes and their dependencies")
    return websocket  # type: ignore[no-any-return]


def _extract_tasks(request: Request, errors: Errors) -> BackgroundTasks:
    tasks = request.background
    if tasks is None:
        # PERF: made in C without __init__; the dispatcher sets route, request_id and strategy
        # when the handler returns (the only time anything reads them).
        tasks = request.background = new_tasks(BackgroundTasks)
    return tasks


# Extractors that can't add a validation error.
def _extract_response(request: Request, errors: Errors) -> Response:
    """The request's sub-response (one per request, shared with dependencies): status None until set."""
    state = request.state
    if state is None:
        state = request.state = {}
    response = state.get("_response")
    if response is None:
        response = state["_response"] = raw_response(b"", 200, None)
        response.status_code = None  # type: ignore[assignment]
    return response  # type: ignore[no-any-return]


INFALLIBLE = frozenset({_extract_request, _extract_tasks, _extract_response})


def compile_infallible_call(
    endpoint: Callable[..., Any], extractors: tuple[tuple[str, Extractor], ...],
) -> Callable[[Request], Any] | None:
    """For signatures of only Request/BackgroundTasks/Response: a compiled call of the handler.

    None when some parameter can fail validation (those go through the general loop).
    """
    if not extractors or not all(extract in INFALLIBLE for _, extract in extractors):
        return None
    # PERF: the handler is called directly, by position when the signature allows (extract.pyx),
    # instead of building a kwargs dict from a loop of extractor calls.
    kinds = {_extract_request: 0, _extract_tasks: 1}
    arguments = [(name, kinds.get(extract, 2), extract) for name, extract in extractors]
    return DirectCall(endpoint, arguments, binds_by_position(endpoint, [name for name, _ in extractors]),  # type: ignore[no-any-return]
                      BackgroundTasks)


def binds_by_position(endpoint: Callable[..., Any], names: list[str]) -> bool:
    """Whether ``endpoint(*values)`` binds ``names`` in this order, exactly as keywords would."""
    try:
        parameters = list(inspect.signature(endpoint).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return (len(parameters) == len(names)
            and all(p.name == name and p.kind in positional for p, name in zip(parameters, names)))


def _missing(loc: list[Any]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def _invalid(exc: _Invalid, loc: list[Any], raw: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.type, "loc": loc, "msg": exc.msg, "input": raw}
    if exc.ctx is not None:
        error["ctx"] = exc.ctx
    return error


def _is_upload(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list and typing.get_args(annotation):
        annotation = typing.get_args(annotation)[0]
    return isinstance(annotation, type) and issubclass(annotation, UploadFile)


def _form_param(handler: str, pname: str, base: Any, optional: bool, marker: Any, default: Any,
                extractors: list[tuple[str, Extractor]]) -> ParamSpec:
    """A ``Form``/``File``/``UploadFile`` parameter: its spec, and its extractor appended to ``extractors``."""
    many = typing.get_origin(base) is list
    item = typing.get_args(base)[0] if many and typing.get_args(base) else (str if many else base)
    is_file = _is_upload(item) or isinstance(marker, markers.File)
    if is_file:
        if not (_is_upload(item) or item is bytes):
            raise TypeError(f"handler {handler}: File parameter {pname!r} must be UploadFile or bytes, got {item!r}")
        converter: Callable[[Any], Any] | None = None
    else:
        converter = scalar_converter(item)
        if converter is None:
            raise TypeError(f"handler {handler}: Form parameter {pname!r} has type {item!r}; use str, int, float, "
                            "bool or uuid.UUID, or a list of one of them")
        constraints = marker.constraints if marker is not None else {}
        if constraints:
            converter = _constrained(converter, constraints, handler, pname)
    alias = (marker.alias if marker is not None else None) or pname
    required = default is _UNSET and not optional
    if default is _UNSET:
        default = None
    extractors.append((pname, _form_extractor(alias, converter, is_file, item is bytes, many, required, default)))
    return ParamSpec(
        name=pname, alias=alias, location="form", annotation=base, required=required,
        default=None if required else default, description=marker.description if marker else None,
        deprecated=marker.deprecated if marker else False,
        include_in_schema=marker.include_in_schema if marker else True,
        constraints=tuple(marker.constraints.items()) if marker is not None else (),
    )


def request_form(request: Request) -> FormData:
    """The request's form body, parsed once; a malformed body is ``HTTPException(400)`` as in FastAPI."""
    state = request.state
    form = state.get("_form")
    if form is None:
        try:
            form = parse_form(request.headers.get("content-type"), request._body)
        except FormError as exc:
            raise HTTPException(400, "There was an error parsing the body") from exc
        state["_form"] = form
        if request.background is None:
            request.background = new_tasks(BackgroundTasks)
        # Uploaded files are closed once the request (and its tasks) are done with them.
        request.background.call_when_done(form.close)
    return form  # type: ignore[no-any-return]


def _form_extractor(alias: str, converter: Callable[[Any], Any] | None, is_file: bool, as_bytes: bool, many: bool,
                    required: bool, default: Any) -> Extractor:
    loc = ["body", alias]

    def convert(value: Any, errors: Errors) -> Any:
        if is_file:
            if not isinstance(value, UploadFile):
                errors.append({"type": "value_error", "loc": list(loc),
                               "msg": "Value error, Expected UploadFile, received: " + type(value).__name__,
                               "input": value})
                return None
            if as_bytes:
                value.file.seek(0)
                return value.file.read()
            return value
        if isinstance(value, UploadFile):
            errors.append({"type": "string_type", "loc": list(loc), "msg": "Input should be a valid string",
                           "input": value.filename})
            return None
        try:
            return converter(value)  # type: ignore[misc]
        except _Invalid as exc:
            errors.append(_invalid(exc, list(loc), value))
            return None

    def extract(request: Request, errors: Errors) -> Any:
        form = request_form(request)
        if many:
            values = form.getlist(alias)
            if not values:
                if required:
                    errors.append(_missing(list(loc)))
                return default
            return [convert(value, errors) for value in values]
        value = form.get(alias)
        if value is None or (value == "" and not is_file and converter is not _to_str):
            if required:
                errors.append(_missing(list(loc)))
            return default
        return convert(value, errors)

    return extract


def _scalar_extractor(
    location: str, alias: str, converter: Callable[[str], Any], required: bool, default: Any
) -> Extractor:
    def lookup_header(request: Request) -> str | None:
        return request.headers.get(alias)

    def lookup_cookie(request: Request) -> str | None:
        return _cookies(request).get(alias)

    if location in ("path", "query"):
        # PERF: the compiled extractor (extract.pyx); headers and cookies stay below.
        return ScalarParam(location, alias, converter, converter is _to_str, converter is _to_int,  # type: ignore[no-any-return]
                           required, default, _Invalid, _missing, _invalid, QueryParams)
    lookup = {"header": lookup_header, "cookie": lookup_cookie}[location]
    loc = [location, alias]

    if converter is _to_str:
        # PERF: strings need no conversion step.
        def extract_str(request: Request, errors: Errors) -> Any:
            raw = lookup(request)
            if raw is None:
                if required:
                    errors.append(_missing(list(loc)))
                return default
            return raw

        return extract_str

    def extract(request: Request, errors: Errors) -> Any:
        raw = lookup(request)
        if raw is None:
            if required:
                errors.append(_missing(list(loc)))
            return default
        try:
            return converter(raw)
        except _Invalid as exc:
            errors.append(_invalid(exc, list(loc), raw))
            return None

    return extract


def _list_extractor(
    location: str, alias: str, converter: Callable[[str], Any], required: bool, default: Any
) -> Extractor:
    """``q: list[int] = Query(...)``: every value of a repeated query key (or header)."""

    def extract(request: Request, errors: Errors) -> Any:
        raws = request.query_params.getlist(alias) if location == "query" else request.headers.getlist(alias)
        if not raws:
            if required:
                errors.append(_missing([location, alias]))
            return default
        values = []
        for index, raw in enumerate(raws):
            try:
                values.append(converter(raw))
            except _Invalid as exc:
                errors.append(_invalid(exc, [location, alias, index], raw))
        return values

    return extract


_CONSTRAINT_ERRORS: dict[str, tuple[str, str]] = {
    "gt": ("greater_than", "Input should be greater than {}"),
    "ge": ("greater_than_equal", "Input should be greater than or equal to {}"),
    "lt": ("less_than", "Input should be less than {}"),
    "le": ("less_than_equal", "Input should be less than or equal to {}"),
    "min_length": ("string_too_short", "String should have at least {} character{}"),
    "max_length": ("string_too_long", "String should have at most {} character{}"),
    "pattern": ("string_pattern_mismatch", "String should match pattern '{}'"),
}


def _constrained(converter: Callable[[str], Any], constraints: dict[str, Any], handler: str, param: str
                 ) -> Callable[[str], Any]:
    """``converter`` followed by FastAPI's numeric and string checks, with FastAPI's error types and messages."""
    checks: list[tuple[str, Any, Callable[[Any], bool]]] = []
    for key, bound in constraints.items():
        if key == "pattern":
            try:
                regex = re.compile(bound)
            except re.error as exc:
                raise TypeError(f"handler {handler}: parameter {param!r} has an invalid pattern {bound!r}: {exc}") \
                    from None
            checks.append((key, bound, lambda value, regex=regex: regex.search(value) is not None))
        elif key in ("min_length", "max_length"):
            limit = int(bound)
            if key == "min_length":
                checks.append((key, limit, lambda value, limit=limit: len(value) >= limit))
            else:
                checks.append((key, limit, lambda value, limit=limit: len(value) <= limit))
        else:
            compare = {"gt": float.__gt__, "ge": float.__ge__, "lt": float.__lt__, "le": float.__le__}[key]
            checks.append((key, bound, lambda value, bound=bound, compare=compare: compare(float(value), float(bound))))

    def convert_and_check(raw: str) -> Any:
        value = converter(raw)
        for key, bound, ok in checks:
            if not ok(value):
                error_type, message = _CONSTRAINT_ERRORS[key]
                plural = "" if bound == 1 else "s"
                raise _Invalid(error_type, message.format(bound, plural), {key: bound})
        return value

    return convert_and_check


def _cookies(request: Request) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in request.headers.getlist("cookie"):
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep:
                jar.setdefault(name, value)
    return jar


def _body_extractors(
    body_params: list[tuple[str, Any, markers.Param | None, Any]], embed: bool
) -> list[tuple[str, Extractor]]:
    # NOTE: the success path is one lax msgspec decode; only a failed one goes to body_errors,
    # which reports every error in FastAPI's vocabulary.
    result: list[tuple[str, Extractor]] = []
    if not embed:
        pname, annotation, _, default = body_params[0]
        shape = BodyShape(annotation)
        decoder = shape.decoder()
        validate_model = shape.pydantic_model is not None
        required = default is _UNSET

        def extract_whole(request: Request, errors: Errors) -> Any:
            raw = request._body
            if not raw:
                if required:
                    errors.append(_missing(["body"]))
                return None if required else default
            if not is_json_request(request):
                # As in FastAPI: a body that is not JSON is validated as the text it is.
                return shape.validate(raw.decode("utf-8", "replace"), ["body"], errors)
            try:
                value = decoder.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):  # (a ValidationError is a DecodeError)
                value = load_json(raw, errors)
                return None if value is INVALID else shape.validate(value, ["body"], errors)
            return shape.validate(value, ["body"], errors) if validate_model else value

        result.append((pname, extract_whole))
        return result

    aliases = {pname: ((m.alias if m is not None else None) or pname) for pname, _, m, _ in body_params}

    def make(pname: str, annotation: Any, default: Any) -> Extractor:
        alias = aliases[pname]
        required = default is _UNSET
        shape = BodyShape(annotation)

        def extract_field(request: Request, errors: Errors) -> Any:
            parsed, all_missing = embedded_body(request, errors)
            if parsed is None:
                return None
            if alias not in parsed:
                if required or all_missing:
                    errors.append(_missing(["body", alias]))
                return None if required else default
            return shape.convert(parsed[alias], ["body", alias], errors)

        return extract_field

    for pname, annotation, _, default in body_params:
        result.append((pname, make(pname, annotation, default)))
    return result

"""Build an OpenAPI 3.1 document from the registered routes and their parameter specs.

Type schemas come from ``msgspec.json.schema_components``, called once for every
type of the whole document, so two models that share a class name get distinct
component names instead of overwriting each other.
"""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any

import msgspec

from zigmund_fast.openapi.formats import refine_formats
from zigmund_fast.openapi.metadata import info_object, tags_list
from zigmund_fast.pydantic_compat import is_pydantic_model
from zigmund_fast.pydantic_compat import json_schema as pydantic_schema

OPENAPI_VERSION = "3.1.0"
REF_PREFIX = "#/components/schemas/"

# Operation keys a path item may hold; HEAD is left out on purpose (it mirrors GET).
_OPERATION_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE"})
_PARAMETER_LOCATIONS = frozenset({"path", "query", "header", "cookie"})
_PLACEHOLDER = re.compile(r"{([^{}:]+)(?::[^{}]*)?}")
_NOT_NAME_CHARS = re.compile(r"\W")
_NOT_COMPONENT_CHARS = re.compile(r"[^A-Za-z0-9._-]")

_SCALAR_SCHEMAS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}


# The 422 body (what RequestValidationError answers with). Comments, not docstrings:
# msgspec would copy a docstring into the schema's "description".
class ValidationError(msgspec.Struct):
    loc: Annotated[list[str | int], msgspec.Meta(title="Location")]
    msg: Annotated[str, msgspec.Meta(title="Message")]
    type: Annotated[str, msgspec.Meta(title="Error Type")]
    input: Annotated[Any, msgspec.Meta(title="Input")] = msgspec.UNSET


class HTTPValidationError(msgspec.Struct):
    detail: Annotated[list[ValidationError], msgspec.Meta(title="Detail")]


_NO_DEFAULT: Any = object()


def build_openapi(
    *, title: str, version: str, routes: Iterable[Any], description: str | None = None,
    summary: str | None = None, terms_of_service: str | None = None, contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None, tags: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes``, paths in registration order.

    ``summary``, ``terms_of_service``, ``contact`` and ``license_info`` go into
    ``info``; ``tags`` (tag metadata) is the top-level ``tags`` list.
    """
    plans = [_RoutePlan(route) for route in routes if getattr(route, "include_in_schema", True)]
    types = _TypeSchemas()
    needs_validation = False
    for plan in plans:
        for param in (*plan.parameters, *plan.body, *plan.form):
            if not _is_file_annotation(param.annotation):
                types.add(param.annotation)
        response_model = _route_option(plan.route, "response_model")
        if response_model is not None:
            types.add(response_model)
        for extra in (_route_option(plan.route, "responses") or {}).values():
            if extra.get("model") is not None:
                types.add(extra["model"])
        needs_validation = needs_validation or plan.has_input
    if needs_validation:
        types.add(HTTPValidationError)
    components = types.resolve()
    validation_ref = types.schema(HTTPValidationError) if needs_validation else None

    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for plan in plans:
        path_item = paths.setdefault(plan.path, {})
        for method in plan.methods:
            key = method.lower()
            if key in path_item:  # the router answers with the first registration; document that one
                continue
            operation_id = _unique(plan.operation_id(method), used_ids, method)
            path_item[key] = _operation(plan, method, operation_id, types, components, validation_ref)
        if not path_item:
            del paths[plan.path]

    info = info_object(title=title, version=version, summary=summary, description=description,
                       terms_of_service=terms_of_service, contact=contact, license_info=license_info)
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info, "paths": paths}
    if components:
        document["components"] = {"schemas": {name: components[name] for name in sorted(components)}}
    security_schemes = _security_schemes(plans)
    if security_schemes:
        document.setdefault("components", {})["securitySchemes"] = security_schemes
    tag_metadata = tags_list(tags)
    if tag_metadata:
        document["tags"] = tag_metadata
    return document


def _route_security(route: Any) -> tuple[tuple[Any, tuple[str, ...]], ...]:
    """(security scheme, required scopes) pairs a route's dependencies use (see zigmund_fast.security)."""
    return getattr(getattr(route, "plan", None), "security", None) or ()


def _security_schemes(plans: Iterable[_RoutePlan]) -> dict[str, Any]:
    """``components.securitySchemes``: each scheme used by a documented route, under its ``scheme_name``."""
    schemes: dict[str, Any] = {}
    for plan in plans:
        for scheme, _ in _route_security(plan.route):
            # NOTE: as in FastAPI, two schemes sharing a name share the entry (the last one registered wins).
            schemes[scheme.scheme_name] = _copy(scheme.model)
    return schemes


class _RoutePlan:
    """What one route contributes, worked out before any schema is generated."""

    __slots__ = ("route", "path", "methods", "parameters", "body", "form", "undeclared_path_params")

    def __init__(self, route: Any) -> None:
        self.route = route
        # "/files/{name:path}" is routed with a convertor but documented as "/files/{name}".
        self.path: str = _PLACEHOLDER.sub(lambda m: "{" + m.group(1) + "}", route.path)
        self.methods = [m.upper() for m in route.methods if m.upper() in _OPERATION_METHODS]
        self.parameters: list[Any] = []
        self.body: list[Any] = []
        self.form: list[Any] = []
        seen: set[tuple[str, str]] = set()
        for param in route.params:
            if not getattr(param, "include_in_schema", True):
                continue
            if param.location == "body":
                self.body.append(param)
            elif param.location == "form":
                self.form.append(param)
            elif param.location in _PARAMETER_LOCATIONS:
                key = (param.location, param.alias)
                if key not in seen:  # OpenAPI wants (in, name) unique per operation
                    seen.add(key)
                    self.parameters.append(param)
        declared = {p.alias for p in self.parameters if p.location == "path"}
        self.undeclared_path_params = [
            name for name in _PLACEHOLDER.findall(route.path) if name not in declared
        ]

    @property
    def has_input(self) -> bool:
        return bool(self.parameters or self.body or self.form or self.undeclared_path_params)

    def operation_id(self, method: str) -> str:
        given = getattr(self.route, "operation_id", None)
        if given:
            return str(given)
        return _NOT_NAME_CHARS.sub("_", f"{_route_name(self.route)}{self.path}") + f"_{method.lower()}"


def _route_name(route: Any) -> str:
    return str(getattr(route, "name", None) or "endpoint")


def _unique(operation_id: str, used: set[str], method: str) -> str:
    """Operation ids must be unique in a document; a repeated one gets the method, then a number."""
    candidate = operation_id
    if candidate in used:
        candidate = f"{operation_id}_{method.lower()}"
    counter = 2
    while candidate in used:
        candidate = f"{operation_id}_{method.lower()}_{counter}"
        counter += 1
    used.add(candidate)
    return candidate


def _operation(
    plan: _RoutePlan,
    method: str,
    operation_id: str,
    types: _TypeSchemas,
    components: dict[str, Any],
    validation_ref: dict[str, Any] | None,
) -> dict[str, Any]:
    route = plan.route
    operation: dict[str, Any] = {}
    tags = list(getattr(route, "tags", None) or ())
    if tags:
        operation["tags"] = tags
    operation["summary"] = getattr(route, "summary", None) or _route_name(route).replace("_", " ").title()
    route_description = getattr(route, "description", None)
    if route_description:
        operation["description"] = route_description
    operation["operationId"] = operation_id
    if getattr(route, "deprecated", False):
        operation["deprecated"] = True

    parameters = [_parameter(param, types) for param in plan.parameters]
    parameters.extend(
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "title": _title(name)}}
        for name in plan.undeclared_path_params
    )
    if parameters:
        operation["parameters"] = parameters
    if plan.body:
        operation["requestBody"] = _request_body(plan.body, operation_id, types, components)
    elif plan.form:
        operation["requestBody"] = _form_body(plan.form, operation_id, types, components)

    status_code = int(getattr(route, "status_code", None) or 200)
    success: dict[str, Any] = {"description": _route_option(route, "response_description") or "Successful Response"}
    if _status_has_body(status_code):
        content = _success_content(route, types)
        if content is not None:
            success["content"] = content
    responses: dict[str, Any] = {str(status_code): success}
    if plan.has_input and validation_ref is not None:
        responses["422"] = {
            "description": "Validation Error",
            "content": {"application/json": {"schema": dict(validation_ref)}},
        }
    _add_declared_responses(responses, _route_option(route, "responses"), types)
    operation["responses"] = responses
    security = [{scheme.scheme_name: list(scopes)} for scheme, scopes in _route_security(route)]
    if security:
        operation["security"] = security
    return operation


_CONSTRAINT_KEYWORDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum",
                        "min_length": "minLength", "max_length": "maxLength", "pattern": "pattern"}


def _parameter(param: Any, types: _TypeSchemas) -> dict[str, Any]:
    schema = types.schema(param.annotation)
    if "$ref" not in schema:
        schema.setdefault("title", _title(param.alias))
        target = schema["items"] if schema.get("type") == "array" and isinstance(schema.get("items"), dict) else schema
        for key, bound in getattr(param, "constraints", ()):
            target[_CONSTRAINT_KEYWORDS[key]] = bound
    in_path = param.location == "path"
    required = bool(in_path or param.required)
    if not required:
        default = _json_default(param.default)
        if default is not _NO_DEFAULT:
            schema["default"] = default
    entry: dict[str, Any] = {"name": param.alias, "in": param.location, "required": required, "schema": schema}
    if getattr(param, "description", None):
        entry["description"] = param.description
    if getattr(param, "deprecated", False):
        entry["deprecated"] = True
    return entry


def _request_body(
    body: Sequence[Any], operation_id: str, types: _TypeSchemas, components: dict[str, Any]
) -> dict[str, Any]:
    """A lone body param is the whole JSON body; several (or an embedded one) are keys of one object."""
    if len(body) == 1 and not getattr(body[0], "embed", False):
        param = body[0]
        schema = _field_schema(param, types)
        required = bool(param.required)
    else:
        # NOTE: FastAPI names the combined object "Body_<operationId>" in the components; so do we.
        name = _free_name(_NOT_COMPONENT_CHARS.sub("_", f"Body_{operation_id}"), components)
        components[name] = {
            "title": name,
            "type": "object",
            "properties": {param.alias: _field_schema(param, types) for param in body},
            "required": [param.alias for param in body if param.required],
        }
        schema = {"$ref": f"{REF_PREFIX}{name}"}
        required = any(param.required for param in body)
    request_body: dict[str, Any] = {"content": {"application/json": {"schema": schema}}}
    if required:
        request_body["required"] = True
    return request_body


def _form_body(
    fields: Sequence[Any], operation_id: str, types: _TypeSchemas, components: dict[str, Any]
) -> dict[str, Any]:
    """Form fields as one object schema, sent urlencoded, or as multipart when a file is among them."""
    name = _free_name(_NOT_COMPONENT_CHARS.sub("_", f"Body_{operation_id}"), components)
    properties = {}
    has_file = False
    for param in fields:
        if _is_file_annotation(param.annotation):
            has_file = True
            binary = {"type": "string", "format": "binary"}
            many = typing.get_origin(param.annotation) is list
            schema = {"type": "array", "items": binary} if many else dict(binary)
            schema["title"] = _title(param.alias)
            if getattr(param, "description", None):
                schema["description"] = param.description
        else:
            schema = _field_schema(param, types)
            for key, bound in getattr(param, "constraints", ()):
                schema[_CONSTRAINT_KEYWORDS[key]] = bound
        properties[param.alias] = schema
    component: dict[str, Any] = {"title": name, "type": "object", "properties": properties}
    required = [param.alias for param in fields if param.required]
    if required:
        component["required"] = required
    components[name] = component
    media_type = "multipart/form-data" if has_file else "application/x-www-form-urlencoded"
    body: dict[str, Any] = {"content": {media_type: {"schema": {"$ref": f"{REF_PREFIX}{name}"}}}}
    if required:
        body["required"] = True
    return body


def _is_file_annotation(annotation: Any) -> bool:
    from zigmund_fast.forms import UploadFile

    if typing.get_origin(annotation) is list and typing.get_args(annotation):
        annotation = typing.get_args(annotation)[0]
    return annotation is bytes or (isinstance(annotation, type) and issubclass(annotation, UploadFile))


def _field_schema(param: Any, types: _TypeSchemas) -> dict[str, Any]:
    schema = types.schema(param.annotation)
    if "$ref" not in schema:
        schema.setdefault("title", _title(param.alias))
    if not param.required:
        default = _json_default(param.default)
        if default is not _NO_DEFAULT:
            schema["default"] = default
    if getattr(param, "description", None):
        schema["description"] = param.description
    return schema


def _free_name(name: str, taken: dict[str, Any]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}_{counter}"
        counter += 1
    return candidate


def _route_option(route: Any, key: str) -> Any:
    options = getattr(route, "options", None)
    return options.get(key) if isinstance(options, dict) else None


def _success_content(route: Any, types: _TypeSchemas) -> dict[str, Any] | None:
    """The success response's content: the response_model's schema, or what the response class sends."""
    from zigmund_fast.response_plan import is_generator_handler, response_media_type
    from zigmund_fast.responses import JSONResponse
    from zigmund_fast.sse import EventSourceResponse

    response_class = _route_option(route, "response_class")
    endpoint = getattr(route, "endpoint", None)
    if endpoint is not None and is_generator_handler(endpoint):
        # NOTE: OpenAPI 3.1 has no item schema for streams; documented as a string body.
        if response_class is None or issubclass(response_class, JSONResponse):
            return {"application/jsonl": {"schema": {"type": "string"}}}
        if issubclass(response_class, EventSourceResponse):
            return {"text/event-stream": {"schema": {"type": "string"}}}
    media_type = response_media_type(response_class)
    if media_type is None:
        return None  # Response, StreamingResponse, FileResponse, RedirectResponse: no declared body
    media_type = media_type.split(";")[0].strip()
    if response_class is not None and not issubclass(response_class, JSONResponse):
        return {media_type: {"schema": {"type": "string"}}}
    model = _route_option(route, "response_model")
    return {media_type: {"schema": types.schema(model) if model is not None else {}}}


# Descriptions FastAPI gives declared responses that have none.
_RANGE_DESCRIPTIONS = {"1XX": "Information", "2XX": "Success", "3XX": "Redirection", "4XX": "Client Error",
                       "5XX": "Server Error", "DEFAULT": "Default Response"}


def _add_declared_responses(responses: dict[str, Any], declared: dict[Any, Any] | None, types: _TypeSchemas) -> None:
    """A route's ``responses={...}`` merged over the generated ones, as FastAPI does.

    ``model`` becomes the ``application/json`` schema; ``content`` merges by media
    type; a missing description is the status phrase (``"Additional Response"``
    for a code without one).
    """
    for status, extra in (declared or {}).items():
        key = str(status).upper()
        key = "default" if key == "DEFAULT" else key
        entry = dict(responses.get(key) or {})
        for name, value in extra.items():
            if name == "model":
                continue
            if name == "content" and isinstance(value, dict):
                content = dict(entry.get("content") or {})
                for media_type, media in value.items():
                    content[media_type] = {**content.get(media_type, {}), **media}
                entry["content"] = content
            else:
                entry[name] = value
        if extra.get("model") is not None:
            content = dict(entry.get("content") or {})
            content["application/json"] = {**content.get("application/json", {}),
                                           "schema": types.schema(extra["model"])}
            entry["content"] = content
        if not entry.get("description"):
            entry["description"] = _status_description(key)
        responses[key] = entry


def _status_description(key: str) -> str:
    if key.upper() in _RANGE_DESCRIPTIONS:
        return _RANGE_DESCRIPTIONS[key.upper()]
    try:
        return HTTPStatus(int(key)).phrase
    except ValueError:
        return "Additional Response"


def _title(alias: str) -> str:
    return alias.replace("_", " ").title()


def _status_has_body(status_code: int) -> bool:
    return status_code >= 200 and status_code not in (204, 205, 304)


def _json_default(value: Any) -> Any:
    """``value`` as JSON data, or ``_NO_DEFAULT`` when it has no faithful JSON form (or is None)."""
    if value is None or value is Ellipsis:
        return _NO_DEFAULT
    try:
        data = msgspec.json.decode(msgspec.json.encode(value))
    except (TypeError, ValueError, OverflowError):
        return _NO_DEFAULT
    # msgspec writes NaN and infinities as null: not the real default, so leave it out.
    return _NO_DEFAULT if data is None else data


class _TypeSchemas:
    """Collects annotations, then generates all their schemas (and shared components) in one call."""

    def __init__(self) -> None:
        self._types: list[Any] = []
        self._schemas: list[dict[str, Any]] = []
        self._pydantic: dict[type, dict[str, Any]] = {}
        self._pydantic_components: dict[str, Any] = {}

    def _index(self, annotation: Any) -> int | None:
        for index, known in enumerate(self._types):
            if known is annotation:
                return index
        for index, known in enumerate(self._types):
            try:
                if known == annotation:
                    return index
            except Exception:  # an annotation with an odd __eq__ is simply not the same type
                continue
        return None

    def add(self, annotation: Any) -> None:
        if _is_scalar(annotation) or self._index(annotation) is not None:
            return
        model = _unwrap_optional_model(annotation)
        if is_pydantic_model(model):
            if model not in self._pydantic:
                reference, components = pydantic_schema(model, REF_PREFIX)
                self._pydantic[model] = reference
                self._pydantic_components.update(components)
            return
        try:
            msgspec.json.schema(annotation)
        except (TypeError, ValueError):  # not a type msgspec can describe: documented as "any value"
            return
        self._types.append(annotation)

    def resolve(self) -> dict[str, Any]:
        """Generate the schemas; returns the components they refer to."""
        if not self._types:
            return dict(self._pydantic_components)
        schemas, components = msgspec.json.schema_components(self._types, ref_template=REF_PREFIX + "{name}")
        refine_formats(self._types, schemas, components, REF_PREFIX)
        self._schemas = list(schemas)
        return {**self._pydantic_components, **components}

    def schema(self, annotation: Any) -> dict[str, Any]:
        """A fresh copy of ``annotation``'s schema (``{}`` for a type that has none)."""
        if _is_scalar(annotation):
            return dict(_SCALAR_SCHEMAS[annotation])
        model = _unwrap_optional_model(annotation)
        if model in self._pydantic:
            return dict(self._pydantic[model])
        index = self._index(annotation)
        if index is None or index >= len(self._schemas):
            return {}
        return _copy(self._schemas[index])


def _unwrap_optional_model(annotation: Any) -> Any:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(args) == 1 and type(None) in typing.get_args(annotation):
        return args[0]
    return annotation


def _is_scalar(annotation: Any) -> bool:
    return isinstance(annotation, type) and annotation in _SCALAR_SCHEMAS


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


__all__ = ["OPENAPI_VERSION", "HTTPValidationError", "ValidationError", "build_openapi"]

"""Build an OpenAPI 3.1 document from the registered routes and their injection plans."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

_SCALAR_SCHEMAS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}

VALIDATION_SCHEMAS: dict[str, Any] = {
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {"title": "Location", "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
        },
        "required": ["loc", "msg", "type"],
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        },
    },
}


def _summary(name: str) -> str:
    return name.replace("_", " ").title()


def _operation_id(name: str, path: str, method: str) -> str:
    return f"{name}{re.sub(r'[^0-9a-zA-Z_]', '_', path)}_{method.lower()}"


def _json_default(value: Any) -> Any:
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return None


def _type_schema(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    scalar = _SCALAR_SCHEMAS.get(annotation)
    if scalar is not None:
        return dict(scalar)
    try:
        (schema,), defs = msgspec.json.schema_components([annotation], ref_template="#/components/schemas/{name}")
    except (TypeError, ValueError):
        return {}
    components.update(defs)
    return schema  # type: ignore[no-any-return]


def build_openapi(
    *, title: str, version: str, routes: Iterable[Any], description: str | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (in registration order)."""
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    needs_validation = False
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in route.methods:
            if method == "HEAD":
                continue
            operation, has_input = _operation(route, method, components)
            needs_validation = needs_validation or has_input
            paths.setdefault(route.path, {})[method.lower()] = operation
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    if needs_validation:
        components.update(VALIDATION_SCHEMAS)
    if components:
        document["components"] = {"schemas": components}
    return document


def _operation(route: Any, method: str, components: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = list(route.tags)
    operation["summary"] = route.summary or _summary(route.name)
    if route.description:
        operation["description"] = route.description
    operation["operationId"] = route.operation_id or _operation_id(route.name, route.path, method)
    if getattr(route, "deprecated", False):
        operation["deprecated"] = True
    parameters = []
    body_params = []
    for param in route.params:
        if not getattr(param, "include_in_schema", True):
            continue
        if param.location == "body":
            body_params.append(param)
            continue
        schema = _type_schema(param.annotation, components)
        schema.setdefault("title", param.alias.replace("_", " ").title())
        if not param.required and param.default is not None:
            default = _json_default(param.default)
            if default is not None:
                schema["default"] = default
        entry: dict[str, Any] = {"name": param.alias, "in": param.location,
                                 "required": bool(param.required or param.location == "path"), "schema": schema}
        if getattr(param, "description", None):
            entry["description"] = param.description
        if getattr(param, "deprecated", False):
            entry["deprecated"] = True
        parameters.append(entry)
    if parameters:
        operation["parameters"] = parameters
    if body_params:
        if len(body_params) == 1 and not getattr(body_params[0], "embed", False):
            schema = _type_schema(body_params[0].annotation, components)
            required = body_params[0].required
        else:
            schema = {"type": "object", "properties": {
                p.alias: _type_schema(p.annotation, components) for p in body_params
            }, "required": [p.alias for p in body_params if p.required]}
            required = any(p.required for p in body_params)
        operation["requestBody"] = {"content": {"application/json": {"schema": schema}}, "required": required}
    status = str(route.status_code)
    responses: dict[str, Any] = {status: {"description": "Successful Response",
                                          "content": {"application/json": {"schema": {}}}}}
    has_input = bool(parameters or body_params)
    if has_input:
        responses["422"] = {
            "description": "Validation Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
        }
    operation["responses"] = responses
    return operation, has_input


__all__ = ["build_openapi"]

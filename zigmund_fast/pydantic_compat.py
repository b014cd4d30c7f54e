"""Optional pydantic support: ``BaseModel`` request bodies and their OpenAPI schemas.

pydantic is not a dependency. These helpers recognise its models without
importing it, so an app that never uses pydantic never pays for the import.
"""

from __future__ import annotations

from typing import Any


def is_pydantic_model(annotation: Any) -> bool:
    """Whether ``annotation`` is a pydantic (v2) ``BaseModel`` subclass."""
    if not isinstance(annotation, type):
        return False
    return any(cls.__name__ == "BaseModel" and cls.__module__.startswith("pydantic") for cls in annotation.__mro__[1:])


def validate(model: type, value: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """``model.model_validate(value)``: (instance, None), or (None, FastAPI-shaped errors located under "body")."""
    from pydantic import ValidationError

    try:
        # NOTE: from_attributes as FastAPI: a value that is no dict is `model_attributes_type`, not `model_type`.
        return model.model_validate(value, from_attributes=True), None  # type: ignore[attr-defined]
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            entry: dict[str, Any] = {"type": error["type"], "loc": ["body", *error["loc"]], "msg": error["msg"],
                                     "input": error.get("input")}
            ctx = error.get("ctx")
            if ctx:
                entry["ctx"] = {key: item if isinstance(item, (str, int, float, bool, type(None))) else str(item)
                                for key, item in ctx.items()}
            errors.append(entry)
        return None, errors


def json_schema(model: type, ref_prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's schema (a ``$ref``) and the components it needs, in OpenAPI 3.1 form."""
    schema = model.model_json_schema(ref_template=ref_prefix + "{model}", mode="validation")  # type: ignore[attr-defined]
    components = dict(schema.pop("$defs", {}))
    name = schema.get("title") or model.__name__
    components[name] = schema
    return {"$ref": ref_prefix + name}, components


__all__ = ["is_pydantic_model", "json_schema", "validate"]

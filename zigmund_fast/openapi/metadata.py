"""The app-level parts of the OpenAPI document: ``info`` and the top-level ``tags``, checked at App creation.

``App(summary=, terms_of_service=, contact=, license_info=, openapi_tags=)``
become ``info.summary``, ``info.termsOfService``, ``info.contact``,
``info.license`` and ``tags`` as FastAPI emits them. The mappings are
checked when the App is made, so a typo is a readable error there rather
than a document that fails validation later. Keys starting with ``x-``
(specification extensions) are allowed everywhere OpenAPI allows them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

_CONTACT_KEYS = frozenset({"name", "url", "email"})
_LICENSE_KEYS = frozenset({"name", "identifier", "url"})
_TAG_KEYS = frozenset({"name", "description", "externalDocs"})
_EXTERNAL_DOCS_KEYS = frozenset({"description", "url"})


def _check_object(value: Any, allowed: frozenset[str], where: str) -> None:
    """``value`` is a mapping of string values, with keys from ``allowed`` or ``x-`` extensions."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(value).__name__}")
    for key, item in value.items():
        if isinstance(key, str) and key.startswith("x-"):
            continue
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}; expected some of {', '.join(sorted(allowed))} "
                             "(or an 'x-' extension)")
        if not isinstance(item, str) and not (key == "externalDocs" and isinstance(item, Mapping)):
            raise TypeError(f"{where}: {key!r} must be a string, got {type(item).__name__}")


def check_app_metadata(
    *,
    summary: str | None,
    terms_of_service: str | None,
    contact: Mapping[str, Any] | None,
    license_info: Mapping[str, Any] | None,
    openapi_tags: Sequence[Mapping[str, Any]] | None,
) -> None:
    """Raise a readable ``TypeError``/``ValueError`` for metadata that would make an invalid document."""
    for name, text in (("summary", summary), ("terms_of_service", terms_of_service)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"App({name}=...) must be a string, got {type(text).__name__}")
    if contact is not None:
        _check_object(contact, _CONTACT_KEYS, "App(contact=...)")
    if license_info is not None:
        _check_object(license_info, _LICENSE_KEYS, "App(license_info=...)")
        if "name" not in license_info:
            raise ValueError("App(license_info=...) needs a 'name'")
        if "url" in license_info and "identifier" in license_info:
            raise ValueError("App(license_info=...) takes an 'identifier' or a 'url', not both (OpenAPI 3.1)")
    if openapi_tags is not None:
        if isinstance(openapi_tags, (str, Mapping)) or not isinstance(openapi_tags, Sequence):
            raise TypeError(f"App(openapi_tags=...) must be a list of dicts, got {type(openapi_tags).__name__}")
        seen: set[str] = set()
        for index, tag in enumerate(openapi_tags):
            where = f"App(openapi_tags=...)[{index}]"
            _check_object(tag, _TAG_KEYS, where)
            if "name" not in tag:
                raise ValueError(f"{where} needs a 'name'")
            if tag["name"] in seen:
                raise ValueError(f"{where}: tag {tag['name']!r} is listed twice")
            seen.add(tag["name"])
            docs = tag.get("externalDocs")
            if docs is not None:
                _check_object(docs, _EXTERNAL_DOCS_KEYS, f"{where}['externalDocs']")
                if "url" not in docs:
                    raise ValueError(f"{where}['externalDocs'] needs a 'url'")


def info_object(
    *,
    title: str,
    version: str,
    summary: str | None = None,
    description: str | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document's ``info``, keys in FastAPI's order; empty values are left out."""
    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = copy.deepcopy(dict(contact))
    if license_info:
        info["license"] = copy.deepcopy(dict(license_info))
    info["version"] = version
    return info


def tags_list(openapi_tags: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The top-level ``tags`` (a copy, in the order given), or None when there are none."""
    if not openapi_tags:
        return None
    return [copy.deepcopy(dict(tag)) for tag in openapi_tags]


__all__ = ["check_app_metadata", "info_object", "tags_list"]

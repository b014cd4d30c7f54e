"""OpenAPI 3.1 document generation and the offline Swagger UI docs page."""

from __future__ import annotations

from zigmund_fast.openapi.docs import (
    DOCS_ASSETS,
    REDOC_ASSET,
    read_docs_asset,
    read_redoc_asset,
    redoc_html,
    swagger_ui_html,
)
from zigmund_fast.openapi.schema import build_openapi

__all__ = [
    "DOCS_ASSETS",
    "REDOC_ASSET",
    "build_openapi",
    "read_docs_asset",
    "read_redoc_asset",
    "redoc_html",
    "swagger_ui_html",
]

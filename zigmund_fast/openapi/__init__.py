"""OpenAPI 3.1 document generation and the offline Swagger UI docs page."""

from __future__ import annotations

from zigmund_fast.openapi.docs import DOCS_ASSETS, read_docs_asset, swagger_ui_html
from zigmund_fast.openapi.schema import build_openapi

__all__ = ["DOCS_ASSETS", "build_openapi", "read_docs_asset", "swagger_ui_html"]

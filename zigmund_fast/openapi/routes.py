"""The routes that serve the OpenAPI document and the docs pages (Swagger UI, ReDoc) with their assets."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from zigmund_fast.exceptions import HTTPException
from zigmund_fast.openapi.docs import (
    DOCS_ASSETS,
    REDOC_ASSET,
    read_docs_asset,
    read_redoc_asset,
    redoc_html,
    swagger_ui_html,
)
from zigmund_fast.responses import Response

if TYPE_CHECKING:
    from zigmund_fast.app import App

_json_encode = msgspec.json.Encoder().encode
_CACHE_FOR_A_DAY = {"cache-control": "public, max-age=86400"}


def add_docs_routes(app: App) -> None:
    """Register ``openapi_url``, ``docs_url`` (+ assets) and ``redoc_url`` (+ asset) on ``app``; None skips one."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        return

    async def openapi_json() -> Response:
        if app._openapi_cache is None:
            app._openapi_cache = _json_encode(app.openapi())
        return Response(app._openapi_cache, 200, None, "application/json")

    app.add_route(openapi_url, openapi_json, include_in_schema=False)
    if app.docs_url is not None:
        _add_swagger_ui(app, app.docs_url, openapi_url)
    if app.redoc_url is not None:
        _add_redoc(app, app.redoc_url, openapi_url)


def _add_swagger_ui(app: App, docs_url: str, openapi_url: str) -> None:
    assets_url = docs_url.rstrip("/") + "/assets"

    async def swagger_ui() -> Response:
        root = app.root_path
        return Response.html(swagger_ui_html(openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI",
                                             assets_url=root + assets_url))

    app.add_route(docs_url, swagger_ui, include_in_schema=False)

    # NOTE: one static route per asset, so docs never cost a regex match on other paths.
    def asset_handler(name: str) -> Callable[[], Any]:
        async def docs_asset() -> Response:
            asset = read_docs_asset(name)
            if asset is None:  # swagger-ui-py missing from this install
                raise HTTPException(404)
            body, media_type = asset
            return Response(body, 200, _CACHE_FOR_A_DAY, media_type)

        return docs_asset

    for asset_name in DOCS_ASSETS:
        app.add_route(f"{assets_url}/{asset_name}", asset_handler(asset_name), include_in_schema=False,
                      name=f"docs_asset_{asset_name}")


def _add_redoc(app: App, redoc_url: str, openapi_url: str) -> None:
    asset_url = redoc_url.rstrip("/") + "/assets/" + REDOC_ASSET

    async def redoc() -> Response:
        root = app.root_path
        installed = read_redoc_asset() is not None
        docs_url = app.docs_url
        return Response.html(redoc_html(
            openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
            asset_url=root + asset_url if installed else None, docs_url=root + docs_url if docs_url else None,
        ))

    async def redoc_asset() -> Response:
        body = read_redoc_asset()
        if body is None:
            raise HTTPException(404)
        return Response(body, 200, _CACHE_FOR_A_DAY, "text/javascript; charset=utf-8")

    app.add_route(redoc_url, redoc, include_in_schema=False)
    app.add_route(asset_url, redoc_asset, include_in_schema=False, name="redoc_asset")

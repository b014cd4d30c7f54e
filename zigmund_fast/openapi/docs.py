"""The Swagger UI page, with its assets served from the installed ``swagger-ui-py`` package (no CDN)."""

from __future__ import annotations

import html
import json
from importlib import resources

# Swagger UI 5 renders OpenAPI 3.1; these are the only files we serve from its bundle.
DOCS_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

_cache: dict[str, bytes] = {}


def read_docs_asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of an allowed Swagger UI asset, or None."""
    media_type = DOCS_ASSETS.get(name)
    if media_type is None:
        return None
    body = _cache.get(name)
    if body is None:
        body = resources.files("swagger_ui").joinpath("static", name).read_bytes()
        _cache[name] = body
    return body, media_type


def swagger_ui_html(*, openapi_url: str, title: str, assets_url: str) -> str:
    """An HTML page that renders ``openapi_url`` with Swagger UI loaded from ``assets_url``."""
    assets = html.escape(assets_url.rstrip("/"), quote=True)
    # NOTE: json.dumps escapes quotes; replacing "<" keeps "</script>" out of the inline script.
    spec_url = json.dumps(openapi_url).replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {spec_url},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""

"""The Swagger UI page, with its assets served from the installed ``swagger-ui-py`` package (no CDN)."""

from __future__ import annotations

import html
import importlib.util
import json
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# The only files of the bundle we serve, with their media types. Swagger UI 5 is
# needed: older releases can't render OpenAPI 3.1 documents.
DOCS_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

_SWAGGER_UI_PACKAGE = "swagger_ui"
_cache: dict[str, bytes] = {}
_lock = threading.Lock()


def _static_dir() -> Traversable | None:
    # NOTE: find_spec locates the package without importing it; importing swagger_ui
    # pulls in jinja2 and urllib.request (~130 ms) for nothing we use.
    try:
        spec = importlib.util.find_spec(_SWAGGER_UI_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        static = Path(location) / "static"
        if static.is_dir():
            return static
    try:  # a package not laid out as plain files (zip import): ask its loader
        return resources.files(_SWAGGER_UI_PACKAGE).joinpath("static")
    except (ImportError, TypeError):
        return None


def read_docs_asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of an allow-listed Swagger UI asset; None for any other name.

    Also None when the ``swagger-ui-py`` package (or the file in it) is missing.
    """
    media_type = DOCS_ASSETS.get(name)
    if media_type is None:  # the allow-list is the whole defence against "../" and friends
        return None
    body = _cache.get(name)
    if body is None:
        with _lock:
            body = _cache.get(name)
            if body is None:
                static = _static_dir()
                if static is None:
                    return None
                try:
                    body = static.joinpath(name).read_bytes()
                except OSError:
                    return None
                _cache[name] = body
    return body, media_type


def _js_string(value: str) -> str:
    """``value`` as a JavaScript string literal that is also safe inside an HTML <script> element."""
    literal = json.dumps(value)  # ensure_ascii: U+2028/U+2029 come out escaped too
    return literal.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def swagger_ui_html(*, openapi_url: str, title: str, assets_url: str) -> str:
    """An HTML page rendering ``openapi_url`` with Swagger UI loaded from ``assets_url`` alone."""
    assets = html.escape(assets_url.rstrip("/"), quote=True)
    # validatorUrl: null keeps Swagger UI from sending the document to the online validator.
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title, quote=True)}</title>
<link rel="stylesheet" type="text/css" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {_js_string(openapi_url)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""


__all__ = ["DOCS_ASSETS", "read_docs_asset", "swagger_ui_html"]

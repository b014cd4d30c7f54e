"""The docs pages, with their assets served from installed packages (no CDN).

Swagger UI comes from ``swagger-ui-py`` (a dependency). ReDoc's standalone
bundle comes from ``drf-spectacular-sidecar`` when it is installed (the
``redoc`` extra: ``pip install zigmund-fast[redoc]``); without it ``/redoc``
says how to get it and points to ``/docs``.
"""

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


def _static_dir(package: str = _SWAGGER_UI_PACKAGE, subdirectory: str = "static") -> Traversable | None:
    # NOTE: find_spec locates the package without importing it; importing swagger_ui
    # pulls in jinja2 and urllib.request (~130 ms), and the ReDoc package's
    # __init__ belongs to a Django app, for nothing we use.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        static = Path(location) / subdirectory
        if static.is_dir():
            return static
    try:  # a package not laid out as plain files (zip import): ask its loader
        return resources.files(package).joinpath(subdirectory)
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


REDOC_ASSET = "redoc.standalone.js"
_REDOC_PACKAGE = "drf_spectacular_sidecar"
_REDOC_DIRECTORY = "static/drf_spectacular_sidecar/redoc/bundles"


def read_redoc_asset() -> bytes | None:
    """ReDoc's standalone bundle, or None when the ``redoc`` extra is not installed."""
    body = _cache.get(REDOC_ASSET)
    if body is None:
        with _lock:
            body = _cache.get(REDOC_ASSET)
            if body is None:
                bundles = _static_dir(_REDOC_PACKAGE, _REDOC_DIRECTORY)
                if bundles is None:
                    return None
                try:
                    body = bundles.joinpath(REDOC_ASSET).read_bytes()
                except OSError:
                    return None
                _cache[REDOC_ASSET] = body
    return body


def redoc_html(*, openapi_url: str, title: str, asset_url: str | None, docs_url: str | None = None) -> str:
    """An HTML page rendering ``openapi_url`` with ReDoc from ``asset_url``; or, with no asset, how to get it."""
    head = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title, quote=True)}</title>
<style>body {{ margin: 0; padding: 0; font-family: sans-serif; }}</style>
</head>
<body>
"""
    if asset_url is None:
        link = f' Meanwhile, <a href="{html.escape(docs_url, quote=True)}">Swagger UI</a> shows the same API.' \
            if docs_url else ""
        return head + f"""<p style="margin: 2em">ReDoc is not installed with this server: install the
<code>redoc</code> extra (<code>pip install zigmund-fast[redoc]</code>), then restart.{link}</p>
</body>
</html>
"""
    # NOTE: no web fonts: ReDoc falls back to the browser's, and nothing leaves this server.
    return head + f"""<div id="redoc-container"></div>
<script src="{html.escape(asset_url, quote=True)}"></script>
<script>
Redoc.init({_js_string(openapi_url)}, {{}}, document.getElementById("redoc-container"));
</script>
</body>
</html>
"""


__all__ = ["DOCS_ASSETS", "REDOC_ASSET", "read_docs_asset", "read_redoc_asset", "redoc_html", "swagger_ui_html"]

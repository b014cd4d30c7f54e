"""The /docs page: served offline from the installed Swagger UI 5 bundle, and rendered by a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.openapi import read_docs_asset, swagger_ui_html
from zigmund_fast.openapi.docs import DOCS_ASSETS
from zigmund_fast.testing import TestClient


def test_bundle_is_swagger_ui_5() -> None:
    asset = read_docs_asset("swagger-ui-bundle.js")
    assert asset is not None
    body, media_type = asset
    assert media_type.startswith("text/javascript")
    match = re.search(rb'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', body)
    assert match is not None, "the bundle does not carry its Swagger UI version"
    assert int(match.group(1)) >= 5, "Swagger UI 5 or newer is needed to render OpenAPI 3.1"
    assert b"SwaggerUIBundle" in body


def test_every_allowed_asset_is_readable_and_cached() -> None:
    for name, media_type in DOCS_ASSETS.items():
        asset = read_docs_asset(name)
        assert asset is not None, name
        assert asset[1] == media_type and len(asset[0]) > 0
        assert read_docs_asset(name)[0] is asset[0]  # type: ignore[index]  # the cached bytes, not a re-read
    css = read_docs_asset("swagger-ui.css")
    assert css is not None and css[1].startswith("text/css") and b".swagger-ui" in css[0]
    png = read_docs_asset("favicon-32x32.png")
    assert png is not None and png[1] == "image/png" and png[0].startswith(b"\x89PNG")


@pytest.mark.parametrize("name", [
    "../x", "../swagger_ui/__init__.py", "/etc/passwd", "static/swagger-ui.css", "./swagger-ui.css",
    "swagger-ui.css/", "SWAGGER-UI.CSS", "", "index.html", "oauth2-redirect.html", "swagger-ui-bundle.js.map",
    "swagger-editor-bundle.js", "LICENSE",
])
def test_only_allow_listed_names_are_served(name: str) -> None:
    assert read_docs_asset(name) is None


def test_page_loads_local_assets_and_the_document() -> None:
    page = swagger_ui_html(openapi_url="/openapi.json", title="Shop - Swagger UI", assets_url="/docs/assets/")
    assert '<link rel="stylesheet" type="text/css" href="/docs/assets/swagger-ui.css">' in page
    assert '<script src="/docs/assets/swagger-ui-bundle.js"></script>' in page
    assert "<title>Shop - Swagger UI</title>" in page
    assert re.search(r'SwaggerUIBundle\(\{\s*url: "/openapi\.json",\s*dom_id: "#swagger-ui"', page)
    assert "validatorUrl: null" in page  # otherwise Swagger UI shows a badge fetched from the internet
    assert not re.search(r"https?://|//cdn", page), "the docs page must not load anything from the internet"


def test_page_escapes_title_and_urls() -> None:
    nasty_url = '/o"</script><script>alert(1)</script>\u2028\'.json'
    page = swagger_ui_html(openapi_url=nasty_url, title="<b>T</b> & co", assets_url='/a"><script>x</script>')
    assert "<title>&lt;b&gt;T&lt;/b&gt; &amp; co</title>" in page
    assert "</script><script>alert" not in page and "<script>x" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert 'href="/a&quot;&gt;&lt;script&gt;x&lt;/script&gt;/swagger-ui.css"' in page
    literal = re.search(r"url: (\"[^\n]*\"),\n", page)
    assert literal is not None
    assert json.loads(literal.group(1)) == nasty_url  # JS reads back exactly the URL it was given


def test_docs_page_through_the_app() -> None:
    with TestClient(App(title="T </title>")) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "/docs/assets/swagger-ui-bundle.js" in page.text
        assert "/docs/assets/swagger-ui.css" in page.text
        assert "T &lt;/title&gt;" in page.text
        assert not re.search(r"https?://", page.text), "the docs page must not load anything from the internet"
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
        assert client.get("/docs/assets/../../etc/passwd").status_code == 404


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None and not os.environ.get("CI"), reason="chromium is not installed")
def test_docs_render_in_a_real_browser(serve: Any) -> None:
    """Headless Chromium loads /docs from our server alone and renders the operations."""
    browser = _chromium()
    assert browser is not None, "CI must have chromium (.ci/run installs it)"
    app = App(title="Browser Check")
    app.post("/tutorial/background-tasks/notifications", lambda: {"queued": True},
             summary="Queue a background notification task", tags=["parity", "tutorial"])
    server = serve(app)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=8000", "--dump-dom", f"http://127.0.0.1:{server.port}/docs"],
            capture_output=True, timeout=90, text=True,
        )
    dom = result.stdout
    assert "opblock" in dom, f"Swagger UI did not render; stderr: {result.stderr[-2000:]}"
    assert "Queue a background notification task" in dom
    assert "/tutorial/background-tasks/notifications" in dom
    assert "Browser Check" in dom


def test_redoc_page_and_its_bundle_come_from_the_install() -> None:
    from zigmund_fast.openapi import read_redoc_asset

    with TestClient(App(title="R")) as client:
        page = client.get("/redoc")
        assert page.status_code == 200 and "Redoc.init(\"/openapi.json\"" in page.text
        assert not re.search(r"https?://", page.text), "the ReDoc page must not load anything from the internet"
        bundle = client.get("/redoc/assets/redoc.standalone.js")
        assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
        assert bundle.content == read_redoc_asset() and b"Redoc" in bundle.content
    with TestClient(App(redoc_url=None)) as client:
        assert client.get("/redoc").status_code == 404


def test_redoc_page_without_the_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from zigmund_fast.openapi import docs

    monkeypatch.setattr(docs, "_REDOC_PACKAGE", "no_such_package_here")
    monkeypatch.setattr(docs, "_cache", {})
    with TestClient(App()) as client:
        page = client.get("/redoc")
        assert page.status_code == 200 and "zigmund-fast[redoc]" in page.text and 'href="/docs"' in page.text
        assert client.get("/redoc/assets/redoc.standalone.js").status_code == 404


@pytest.mark.skipif(_chromium() is None and not os.environ.get("CI"), reason="chromium is not installed")
def test_redoc_renders_in_a_real_browser(serve: Any) -> None:
    browser = _chromium()
    assert browser is not None, "CI must have chromium (.ci/run installs it)"
    app = App(title="ReDoc Check")
    app.post("/orders", lambda: {"ok": True}, summary="Place an order with ReDoc watching", tags=["shop"])
    server = serve(app)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=8000", "--dump-dom", f"http://127.0.0.1:{server.port}/redoc"],
            capture_output=True, timeout=90, text=True,
        )
    dom = result.stdout
    assert "Place an order with ReDoc watching" in dom, f"ReDoc did not render; stderr: {result.stderr[-2000:]}"
    assert "ReDoc Check" in dom

"""The /docs page: served offline from the installed Swagger UI 5 bundle, and rendered by a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.openapi import read_docs_asset, swagger_ui_html
from zigmund_fast.testing import TestClient


def test_docs_page_loads_local_assets_only() -> None:
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


def test_bundle_is_swagger_ui_5() -> None:
    asset = read_docs_asset("swagger-ui-bundle.js")
    assert asset is not None
    body, _ = asset
    match = re.search(rb'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', body)
    assert match is not None, "the bundle does not carry its Swagger UI version"
    assert int(match.group(1)) >= 5, "Swagger UI 5 or newer is needed to render OpenAPI 3.1"
    assert read_docs_asset("../x") is None
    assert read_docs_asset("index.html") is None


def test_page_escapes_the_openapi_url() -> None:
    page = swagger_ui_html(openapi_url='/o"</script>.json', title="x", assets_url="/a")
    assert "</script>.json" not in page


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

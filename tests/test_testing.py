"""The in-process TestClient builds request lines the way httpx does."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App
from zigmund_fast.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/caf\u00e9/{name}")
    async def cafe(name: str, q: str = "") -> dict[str, Any]:
        return {"name": name, "q": q}

    return app


def test_non_ascii_and_spaces_in_the_path_are_percent_encoded() -> None:
    client = TestClient(make_app())
    assert client.get("/café/a b?q=x y").json() == {"name": "a b", "q": "x y"}
    assert client.get("/caf%C3%A9/z", params={"q": "é"}).json() == {"name": "z", "q": "é"}


def test_a_full_url_keeps_its_query_and_escapes() -> None:
    client = TestClient(make_app())
    assert client.get("http://testserver/café/%22?q=1").json() == {"name": '"', "q": "1"}

"""The compiled query parser and parameter extractors behave like the plain-Python rules they replace."""

from __future__ import annotations

from urllib.parse import unquote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from zigmund_fast import App, Request
from zigmund_fast.requests import QueryParams, parse_query
from zigmund_fast.testing import TestClient


def reference_parse_query(query: str) -> list[tuple[str, str]]:
    """The rule: split on "&", skip empty pieces, split each at its first "=", unquote pieces with % or +."""
    items = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            name, value = unquote_plus(name), unquote_plus(value)
        items.append((name, value))
    return items


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab=&%+2Cé0 ", max_size=30))
def test_parse_query_follows_the_rule(query: str) -> None:
    assert parse_query(query) == reference_parse_query(query)


def test_int_parameters_beyond_the_fast_path_still_validate() -> None:
    app = App()

    @app.get("/n/{n}")
    async def number(n: int, m: int = 0) -> dict[str, int]:
        return {"n": n, "m": m}

    client = TestClient(app)
    assert client.get("/n/007?m=-3").json() == {"n": 7, "m": -3}
    assert client.get("/n/" + "9" * 30).json()["n"] == int("9" * 30)
    bad = client.get("/n/%D9%A1%D9%A2?m=x")  # Arabic-Indic digits: digits to str.isdigit, not to FastAPI
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["path", "n"], ["query", "m"]]
    huge = client.get("/n/" + "1" * 5000)
    assert huge.status_code == 422 and huge.json()["detail"][0]["type"] == "int_parsing_size"  # as in FastAPI


def test_query_params_made_by_the_extractor_equal_those_the_request_makes() -> None:
    """A query parameter builds ``request.query_params`` in C; the handler sees the same mapping
    ``QueryParams(query_string)`` gives (repeats, percent-escapes, latin-1 bytes, empty values)."""
    app = App()

    @app.get("/q")
    def read(request: Request, q: str = "-") -> dict[str, object]:
        params = request.query_params
        return {"q": q, "items": params.multi_items(), "last": dict(params), "list": params.getlist("q")}

    raw = b"q=1&x=%C3%A9&q=two+words&empty=&flag&q=%FF"
    expected = QueryParams(raw)
    with TestClient(app) as client:
        body = client.get("/q?" + raw.decode("latin-1")).json()
    assert body["q"] == expected["q"]
    assert [tuple(item) for item in body["items"]] == expected.multi_items()
    assert body["last"] == dict(expected)
    assert body["list"] == expected.getlist("q")

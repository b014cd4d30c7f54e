"""The compiled query parser and parameter extractors behave like the plain-Python rules they replace."""

from __future__ import annotations

from urllib.parse import unquote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from zigmund_fast import App
from zigmund_fast.requests import parse_query
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

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


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="ab=&%+2Cé0 ", max_size=30), st.text(alphabet="ab+é %2", min_size=0, max_size=3))
def test_one_query_value_read_from_the_raw_bytes_equals_the_parsed_mapping(query: str, alias: str) -> None:
    """``query_value`` (a query parameter without request.query_params) gives what the mapping gives."""
    from zigmund_fast._compiled.extract import query_value

    raw = query.encode("latin-1")
    try:
        alias_bytes: bytes | None = alias.encode("latin-1")
    except UnicodeEncodeError:
        alias_bytes = None
    assert query_value(raw, alias_bytes, alias) == dict(parse_query(raw.decode("latin-1"))).get(alias)


def test_query_value_for_names_outside_latin_1_and_escaped_names() -> None:
    from zigmund_fast._compiled.extract import query_value

    assert query_value(b"%E2%82%AC=euro&x=1", None, "\u20ac") == "euro"
    assert query_value(b"x=1&x=2&y", b"x", "x") == "2"
    assert query_value(b"y&x", b"y", "y") == ""
    assert query_value(b"a%62=1&ab=2&a%62=3", b"ab", "ab") == "3"
    assert query_value(b"q=a+b%21", b"q", "q") == "a b!"
    assert query_value(b"", b"q", "q") is None

"""The compiled segment matcher agrees with the template's regex on any path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zigmund_fast import App, Request
from zigmund_fast._impl import RegexMatcher, SegmentMatcher
from zigmund_fast.routing import RouteTable, compile_path, path_matcher
from zigmund_fast.testing import TestClient

SEGMENT_TEMPLATES = [
    "/items/{item_id}", "/items/{item_id}/", "/a/{x}/b/{y}", "/{x}", "/{x}/{y}", "/u/{x}/v", "/items/{item_id}/notes",
]
paths = st.text(alphabet="ab/xé%.-", max_size=12).map(lambda tail: "/" + tail)


@pytest.mark.parametrize("template", SEGMENT_TEMPLATES)
@settings(max_examples=400, deadline=None)
@given(path=paths | st.sampled_from(["/items/5", "/items/5/", "/items//", "/a/1/b/2", "/a/1/b/", "/u/q/v", "/"]))
def test_segment_matcher_agrees_with_the_regex(template: str, path: str) -> None:
    regex, _ = compile_path(template)
    matcher = path_matcher(template, regex)
    assert isinstance(matcher, SegmentMatcher)
    found = regex.match(path)
    assert matcher.match(path) == (None if found is None else found.groupdict())


@pytest.mark.parametrize("template", ["/files/{name}.txt", "/static/{rest:path}", "/v{version}/x"])
def test_templates_with_placeholders_inside_a_segment_keep_their_regex(template: str) -> None:
    regex, _ = compile_path(template)
    assert isinstance(path_matcher(template, regex), RegexMatcher)


def test_lookup_keeps_registration_order_across_wildcard_first_segments() -> None:
    """A template whose first segment is a placeholder competes with the literal bucket in the order registered."""
    from zigmund_fast.injection import build_plan
    from zigmund_fast.routing import Route

    table = RouteTable()
    for path in ("/{kind}/latest", "/items/{item_id}", "/static/{rest:path}"):
        table.add(Route(path, ("GET",), lambda: None, build_plan(lambda: None, set())))
    routes, params = table.lookup("/items/latest")
    assert routes is not None and routes["GET"].path == "/{kind}/latest" and params == {"kind": "items"}
    routes, params = table.lookup("/items/7")
    assert routes is not None and routes["GET"].path == "/items/{item_id}" and params == {"item_id": "7"}
    routes, params = table.lookup("/static/css/site.css")
    assert routes is not None and params == {"rest": "css/site.css"}
    assert table.lookup("/nothing/here/at/all") == (None, None)


def test_api_route_registers_one_handler_for_several_methods() -> None:
    app = App()

    @app.api_route("/things/{n}", methods=["get", "POST"])
    def things(n: int, request: Request) -> dict[str, object]:
        return {"n": n, "method": request.method}

    with TestClient(app) as client:
        assert client.get("/things/1").json() == {"n": 1, "method": "GET"}
        assert client.post("/things/2").json() == {"n": 2, "method": "POST"}
        assert client.head("/things/3").status_code == 200
        refused = client.delete("/things/4")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, POST"
    with pytest.raises(TypeError, match="list of method names"):
        app.api_route("/x", methods="GET")  # type: ignore[arg-type]

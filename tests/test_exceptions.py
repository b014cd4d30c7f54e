"""HTTPException and the validation errors: what handlers see in Python, and what the client gets as JSON."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App, Request, RequestValidationError
from zigmund_fast.exceptions import ResponseValidationError
from zigmund_fast.responses import PlainTextResponse, Response
from zigmund_fast.testing import TestClient


def test_error_locs_are_tuples_in_python() -> None:
    exc = RequestValidationError([{"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}])
    assert exc.errors() == [{"type": "missing", "loc": ("query", "q"), "msg": "Field required", "input": None}]
    assert ResponseValidationError([{"type": "x", "loc": ["response", 0], "msg": "m"}]).errors()[0]["loc"] == (
        "response", 0)


def test_errors_returns_copies_the_handler_may_change() -> None:
    exc = RequestValidationError([{"type": "missing", "loc": ["query", "q"], "msg": "Field required"}])
    first = exc.errors()
    first[0]["msg"] = "changed"
    first.append({"loc": ("extra",)})
    assert exc.errors() == [{"type": "missing", "loc": ("query", "q"), "msg": "Field required"}]


def test_a_handler_sees_tuples_and_the_default_422_sends_lists() -> None:
    seen: list[Any] = []
    app = App()

    @app.get("/default/{n}")
    async def default(n: int) -> int:
        return n

    handled = App()

    @handled.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        seen.extend(error["loc"] for error in exc.errors())
        return PlainTextResponse(f"{exc.errors()[0]['loc']}", 400)

    handled.get("/handled/{n}", default)
    with TestClient(app) as client:
        response = client.get("/default/x")
    with TestClient(handled) as client:
        custom = client.get("/handled/x")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "n"]
    assert (custom.status_code, custom.text) == (400, "('path', 'n')")
    assert seen == [("path", "n")]

"""App registration, dispatch, return values, errors, and the decorator/call forms."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App, HTTPException, Request, Response
from zigmund_fast.testing import TestClient


def test_call_form_and_decorator_form_register_the_same_way() -> None:
    app = App()

    async def listed() -> list[int]:
        return [1, 2]

    assert app.get("/call", listed) is listed

    @app.post("/decorated", status_code=201, summary="Make", tags=["t"])
    async def decorated() -> dict[str, bool]:
        return {"made": True}

    with TestClient(app) as client:
        assert client.get("/call").json() == [1, 2]
        response = client.post("/decorated")
        assert response.status_code == 201
        assert response.json() == {"made": True}
    route = next(r for r in app.routes if r.path == "/decorated")
    assert route.summary == "Make" and route.tags == ["t"] and route.methods == ("POST",)


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_every_method_helper_routes_its_method(method: str) -> None:
    app = App()
    getattr(app, method)("/m", lambda: {"method": method})
    with TestClient(app) as client:
        response = getattr(client, method)("/m")
        assert response.status_code == 200
        assert response.json() == {"method": method}


def test_explicit_head_route_wins_over_get() -> None:
    app = App()
    app.get("/h", lambda: {"x": 1})
    app.head("/h", lambda: Response(b"", 204))
    with TestClient(app) as client:
        assert client.head("/h").status_code == 204


def test_duplicate_route_is_refused() -> None:
    app = App()
    app.get("/dup", lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        app.get("/dup", lambda: 2)


@pytest.mark.parametrize("path", ["no-slash", "/a/{1bad}", "/a/{x}/{x}", "/a/{x:int}"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        App().get(path, lambda: None)


def test_path_convertor_matches_slashes() -> None:
    app = App()

    @app.get("/files/{file_path:path}")
    async def files(file_path: str) -> dict[str, str]:
        return {"file_path": file_path}

    with TestClient(app) as client:
        assert client.get("/files/a/b/c.txt").json() == {"file_path": "a/b/c.txt"}


def test_not_found_and_method_not_allowed() -> None:
    app = App()
    app.get("/thing", lambda: 1)
    app.post("/thing", lambda: 2)
    with TestClient(app) as client:
        missing = client.get("/nothing")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Not Found"}
        wrong = client.delete("/thing")
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET, HEAD, POST"


def test_http_exception_and_unhandled_errors() -> None:
    app = App()

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout", headers={"x-pot": "1"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/bad-return")
    async def bad_return() -> object:
        return object()

    with TestClient(app) as client:
        teapot_response = client.get("/teapot")
        assert teapot_response.status_code == 418
        assert teapot_response.json() == {"detail": "short and stout"}
        assert teapot_response.headers["x-pot"] == "1"
        boom_response = client.get("/boom")
        assert boom_response.status_code == 500
        assert boom_response.json() == {"detail": "Internal Server Error"}
        assert "secret" not in boom_response.text
        assert client.get("/bad-return").status_code == 500


def test_custom_exception_handler() -> None:
    app = App()

    class Oops(Exception):
        pass

    @app.exception_handler(Oops)
    def handle_oops(request: Request, exc: Oops) -> Response:
        return Response.json({"oops": request.path}, 409)

    @app.get("/oops")
    async def oops() -> None:
        raise Oops()

    with TestClient(app) as client:
        response = client.get("/oops")
        assert response.status_code == 409
        assert response.json() == {"oops": "/oops"}


def test_handler_that_suspends_is_completed_in_a_task() -> None:
    import asyncio

    app = App()

    @app.get("/slow")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        return {"task": asyncio.current_task() is not None}

    @app.get("/slow-error")
    async def slow_error() -> None:
        await asyncio.sleep(0.01)
        raise HTTPException(404, "gone")

    with TestClient(app) as client:
        assert client.get("/slow").json() == {"task": True}
        assert client.get("/slow-error").status_code == 404


def test_response_helpers() -> None:
    assert Response.text("hi").media_type == "text/plain; charset=utf-8"
    assert Response.html("<b>").media_type == "text/html; charset=utf-8"
    assert Response.json({"a": 1}).body == b'{"a":1}'
    with pytest.raises(ValueError):
        Response(b"", 42)
    with pytest.raises(TypeError):
        Response(123)  # type: ignore[arg-type]
    response = Response(b"x", headers={"X-A": "1"})
    with pytest.raises(ValueError):
        response.headers["x-b"] = "bad\r\nvalue"


def test_app_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        App(background_errors="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        App(shutdown_timeout=-1)
    with pytest.raises(TypeError):
        App(no_such_setting=True)  # type: ignore[call-arg]


def test_asyncio_timeout_works_once_the_handler_has_suspended() -> None:
    """The documented pattern: the handler's first step runs outside a Task, the rest inside one."""
    import asyncio

    app = App()

    @app.get("/timeout")
    async def with_timeout() -> dict[str, bool]:
        await asyncio.sleep(0)
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            return {"timed_out": True}
        return {"timed_out": False}

    with TestClient(app) as client:
        assert client.get("/timeout").json() == {"timed_out": True}


def test_timeout_at_the_top_needs_a_task_and_eager_false_gives_one(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import logging

    async def top_timeout() -> dict[str, bool]:
        async with asyncio.timeout(1):
            await asyncio.sleep(0)
        return {"ok": True}

    app = App()
    app.get("/eager", top_timeout)
    app.get("/task", top_timeout, eager=False)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast.app"), TestClient(app) as client:
        assert client.get("/eager").status_code == 500
        assert any("eager=False" in r.getMessage() for r in caplog.records)
        assert client.get("/task").json() == {"ok": True}
    everywhere = App(eager_handlers=False)
    everywhere.get("/t", top_timeout)
    with TestClient(everywhere) as client:
        assert client.get("/t").json() == {"ok": True}


def test_a_response_that_cannot_be_encoded_becomes_a_500() -> None:
    app = App()

    @app.get("/bad-header")
    async def bad_header() -> Response:
        return Response(b"x", headers={"x-name": "caf\u00e9 \u2615"})  # not latin-1

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/bad-header").status_code == 500
        assert client.get("/ok").json() == {"ok": True}

"""app.mount: sub-apps and custom mountables under a prefix, root_path, redirects, precedence, errors."""

from __future__ import annotations

from typing import Any

import pytest

from zigmund_fast import App, BackgroundTasks, HTTPException, Request, Response
from zigmund_fast.testing import TestClient

from .conftest import read_response


def sub_app(log: list[str] | None = None) -> App:
    sub = App(title="Sub")

    @sub.get("/")
    async def root(request: Request) -> dict[str, str]:
        return {"where": "sub root", "path": request.path, "root_path": request.root_path, "url": request.url}

    @sub.get("/items/{item_id}")
    async def item(item_id: int, tasks: BackgroundTasks) -> dict[str, int]:
        if log is not None:
            tasks.add(log.append, f"task {item_id}")
        return {"item_id": item_id}

    return sub


class Echo:
    """A custom mountable: sync, returning a Response."""

    def handle_mounted(self, request: Request) -> Response:
        return Response.json({"path": request.path, "root_path": request.root_path})


class AsyncMountable:
    async def handle_mounted(self, request: Request) -> Any:
        if request.path == "/teapot":
            raise HTTPException(418, "short and stout")
        if request.path == "/boom":
            raise RuntimeError("mountable bug")
        if request.path == "/not-a-response":
            return {"plain": "dict"}
        return Response.text(f"async {request.path}")


def test_a_mounted_app_gets_the_path_below_the_prefix_and_the_prefix_as_root_path() -> None:
    app = App()
    app.mount("/v1", sub_app())
    with TestClient(app) as client:
        response = client.get("/v1/", params={"a": "1"})
        assert response.json() == {"where": "sub root", "path": "/", "root_path": "/v1",
                                   "url": "http://testserver/v1/?a=1"}
        assert client.get("/v1/items/3").json() == {"item_id": 3}
        assert client.get("/v1/items/x").status_code == 422
        assert client.get("/v1/missing").status_code == 404


def test_the_bare_prefix_redirects_to_its_slash_form_keeping_the_query() -> None:
    app = App()
    app.mount("/v1", sub_app())
    with TestClient(app) as client:
        response = client.get("/v1?x=1")
        assert response.status_code == 307
        assert response.headers["location"] == "http://testserver/v1/?x=1"
        assert client.post("/v1").status_code == 307


def test_the_apps_own_routes_win_and_unmatched_paths_outside_mounts_are_404() -> None:
    app = App()
    app.get("/v1/special", lambda: "parent")
    app.mount("/v1", sub_app())
    with TestClient(app) as client:
        assert client.get("/v1/special").json() == "parent"
        assert client.get("/elsewhere").status_code == 404
        assert client.get("/v1x").status_code == 404  # a prefix match is by whole segments


def test_longest_prefix_wins_and_a_mount_on_root_serves_the_rest() -> None:
    app = App()
    app.get("/own", lambda: "own")
    app.mount("/", Echo())
    app.mount("/a", Echo())
    app.mount("/a/b", Echo())
    with TestClient(app) as client:
        assert client.get("/own").json() == "own"
        assert client.get("/a/b/c").json() == {"path": "/c", "root_path": "/a/b"}
        assert client.get("/a/c").json() == {"path": "/c", "root_path": "/a"}
        assert client.get("/z").json() == {"path": "/z", "root_path": ""}


def test_nested_mounts_accumulate_root_path() -> None:
    inner = App()
    inner.mount("/files", Echo())
    outer = App()
    outer.mount("/outer", inner)
    app = App()
    app.mount("/top", outer)
    with TestClient(app) as client:
        assert client.get("/top/outer/files/x.txt").json() == {"path": "/x.txt", "root_path": "/top/outer/files"}


def test_async_mountables_and_their_errors_go_through_the_parent_handlers() -> None:
    app = App()
    app.mount("/m", AsyncMountable())

    @app.exception_handler(HTTPException)
    def custom(request: Request, exc: HTTPException) -> Response:
        return Response.json({"custom": exc.detail}, exc.status_code)

    with TestClient(app) as client:
        assert client.get("/m/hello").text == "async /hello"
        teapot = client.get("/m/teapot")
        assert teapot.status_code == 418 and teapot.json() == {"custom": "short and stout"}
        boom = client.get("/m/boom")
        assert boom.status_code == 500 and b"mountable bug" not in boom.content
        assert client.get("/m/not-a-response").status_code == 500


def test_sub_app_middleware_runs_including_middleware_added_after_mounting() -> None:
    sub = sub_app()
    app = App()
    app.mount("/v1", sub)

    @sub.middleware("http")
    async def tag(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["x-sub"] = "1"
        return response

    @app.middleware("http")
    async def parent_tag(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["x-parent"] = "1"
        return response

    with TestClient(app) as client:
        response = client.get("/v1/items/1")
        assert response.headers["x-sub"] == "1" and response.headers["x-parent"] == "1"


def test_sub_app_background_tasks_run_after_the_response() -> None:
    log: list[str] = []
    app = App()
    app.mount("/v1", sub_app(log))
    with TestClient(app) as client:
        assert client.get("/v1/items/5").json() == {"item_id": 5}
        assert log == ["task 5"]


def test_a_mounted_apps_docs_point_at_its_own_openapi_document() -> None:
    app = App()
    app.mount("/v1", sub_app())
    with TestClient(app) as client:
        docs = client.get("/v1/docs")
        assert docs.status_code == 200 and b"/v1/openapi.json" in docs.content
        document = client.get("/v1/openapi.json").json()
        assert document["servers"] == [{"url": "/v1"}] and "/items/{item_id}" in document["paths"]
        assert "/v1/items/{item_id}" not in client.get("/openapi.json").json()["paths"]


def test_an_app_without_mounts_has_none() -> None:
    # NOTE: App.dispatch consults mounts only when no route matched, and only if something was mounted.
    app = App()
    assert app._mounts is None
    app.mount("/m", Echo())
    assert app._mounts is not None


def test_mount_errors_are_readable() -> None:
    app = App()
    with pytest.raises(ValueError, match="must start with '/'"):
        app.mount("static", Echo())
    with pytest.raises(ValueError, match="path parameters"):
        app.mount("/users/{user_id}", Echo())
    with pytest.raises(TypeError, match="handle_mounted"):
        app.mount("/x", object())
    with pytest.raises(ValueError, match="mounted on itself"):
        app.mount("/self", app)
    app.mount("/once", Echo())
    with pytest.raises(ValueError, match="already mounted"):
        app.mount("/once/", Echo())


def test_a_mounted_app_over_a_real_socket(serve: Any) -> None:
    app = App()
    app.mount("/v1", sub_app())
    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET /v1/items/9 HTTP/1.1\r\nHost: t\r\n\r\nGET /v1 HTTP/1.1\r\nHost: t\r\n\r\n")
        buffer = bytearray()
        first = read_response(sock, buffer=buffer)
        assert first.status == 200 and first.body == b'{"item_id":9}'
        second = read_response(sock, buffer=buffer)
        assert second.status == 307 and second.header("location") == "http://t/v1/"


def test_behind_a_proxy_root_path_the_urls_keep_the_proxy_prefix(serve: Any) -> None:
    app = App()
    app.mount("/v1", sub_app())
    server = serve(app, root_path="/api")
    with server.connect() as sock:
        sock.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: t\r\n\r\nGET /api/v1/ HTTP/1.1\r\nHost: t\r\n\r\n")
        buffer = bytearray()
        redirect = read_response(sock, buffer=buffer)
        assert redirect.status == 307 and redirect.header("location") == "http://t/api/v1/"
        root = read_response(sock, buffer=buffer)
        assert root.status == 200
        assert root.body == b'{"where":"sub root","path":"/","root_path":"/api/v1","url":"http://t/api/v1/"}'

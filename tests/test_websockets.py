"""WebSocket routes through the in-process TestClient (the real compiled protocol over a memory transport).

Network behaviour (interoperability, flow control, pings, limits, shutdown) is in
tests/server/test_websockets_sockets.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import pytest

import zigmund_fast as zigmund
from zigmund_fast import App, WebSocket, WebSocketDisconnect, WebSocketState
from zigmund_fast.testing import TestClient, WebSocketRejected
from zigmund_fast.websockets import accept_key, handshake_problem

MakeClient = Callable[[App], TestClient]


def echo_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if "text" in message:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for value in websocket.iter_json():
            await websocket.send_json({"got": value})

    return app


def test_echo_text_and_bytes(client_for: MakeClient) -> None:
    client = client_for(echo_app())
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\xffbinary")
        assert ws.receive_bytes() == b"\x00\xffbinary"
        ws.send_text("é€ unicode")
        assert ws.receive_text() == "é€ unicode"


def test_echo_json(client_for: MakeClient) -> None:
    client = client_for(echo_app())
    with client.websocket_connect("/json") as ws:
        ws.send_json({"a": [1, 2, None]})
        assert ws.receive_json() == {"got": {"a": [1, 2, None]}}


def test_path_query_header_and_cookie_parameters_are_injected(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/rooms/{room_id}")
    async def room(websocket: WebSocket, room_id: int, nick: str, x_token: Annotated[str, zigmund.Header()],
                   session: Annotated[str | None, zigmund.Cookie()] = None, limit: int = 10) -> None:
        await websocket.accept()
        await websocket.send_json({"room_id": room_id, "nick": nick, "token": x_token, "session": session,
                                   "limit": limit, "path_params": websocket.path_params,
                                   "query": dict(websocket.query_params)})
        await websocket.close()

    client = client_for(app)
    headers = {"x-token": "secret", "cookie": "session=abc; other=1"}
    with client.websocket_connect("/rooms/7?nick=ann", headers=headers) as ws:
        assert ws.receive_json() == {"room_id": 7, "nick": "ann", "token": "secret", "session": "abc", "limit": 10,
                                     "path_params": {"room_id": "7"}, "query": {"nick": "ann"}}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000


def test_a_parameter_that_does_not_convert_refuses_the_upgrade_with_403(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/rooms/{room_id}")
    async def room(websocket: WebSocket, room_id: int, nick: str) -> None:
        await websocket.accept()

    client = client_for(app)
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/rooms/seven")
    assert refused.value.status_code == 403
    detail = refused.value.response.json()["detail"]
    assert {(error["type"], tuple(error["loc"])) for error in detail} == {
        ("int_parsing", ("path", "room_id")), ("missing", ("query", "nick")),
    }


def test_dependencies_get_the_websocket_and_parameters(client_for: MakeClient) -> None:
    app = App()
    events: list[str] = []

    async def current_user(websocket: WebSocket, token: str) -> str:
        websocket.state.seen_by_dependency = True
        return f"user-{token}"

    async def session() -> AsyncIterator[str]:
        events.append("enter")
        yield "session"
        events.append("exit")

    @app.websocket("/me")
    async def me(websocket: WebSocket, user: str = zigmund.Depends(current_user),
                 db: str = zigmund.Depends(session)) -> None:
        await websocket.accept()
        await websocket.send_json({"user": user, "db": db, "state": websocket.state.seen_by_dependency})

    client = client_for(app)
    with client.websocket_connect("/me", params={"token": "t1"}) as ws:
        assert ws.receive_json() == {"user": "user-t1", "db": "session", "state": True}
    assert events == ["enter", "exit"]
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect("/me")
    assert refused.value.status_code == 403
    assert refused.value.response.json()["detail"][0]["loc"] == ["query", "token"]


def test_close_before_accept_refuses_with_403(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/private")
    async def private(websocket: WebSocket) -> None:
        await websocket.close()

    with pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/private")
    assert refused.value.status_code == 403
    assert refused.value.response.headers["connection"] == "close"


def test_websocket_exception_before_accept_refuses_with_403(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/private")
    async def private(websocket: WebSocket) -> None:
        raise zigmund.WebSocketException(1008, "no token")

    with pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/private")
    assert refused.value.status_code == 403
    assert refused.value.response.json() == {"detail": "no token"}


def test_http_exception_before_accept_is_answered_with_its_status(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/private")
    async def private(websocket: WebSocket) -> None:
        raise zigmund.HTTPException(401, "log in first", headers={"www-authenticate": "Bearer"})

    with pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/private")
    assert refused.value.status_code == 401
    assert refused.value.response.json() == {"detail": "log in first"}
    assert refused.value.response.headers["www-authenticate"] == "Bearer"


def test_a_handler_failing_before_accept_gets_500_and_a_logged_traceback(
    client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()

    @app.websocket("/broken")
    async def broken(websocket: WebSocket) -> None:
        raise RuntimeError("boom before accept")

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.websockets"), pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/broken")
    assert refused.value.status_code == 500
    assert any(r.exc_info and "boom before accept" in str(r.exc_info[1]) for r in caplog.records)


def test_a_handler_returning_without_accepting_gets_500(client_for: MakeClient,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/lazy")
    async def lazy(websocket: WebSocket) -> None:
        return None

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.websockets"), pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/lazy")
    assert refused.value.status_code == 500
    assert "returned without accepting" in caplog.text


def test_an_upgrade_to_a_path_without_a_websocket_route_is_403(client_for: MakeClient) -> None:
    app = echo_app()
    app.get("/plain", lambda: {"plain": True})
    client = client_for(app)
    for path in ("/nowhere", "/plain"):
        with pytest.raises(WebSocketRejected) as refused:
            client.websocket_connect(path)
        assert refused.value.status_code == 403
    # A plain GET to a WebSocket-only path is an ordinary 404.
    assert client.get("/echo").status_code == 404


def test_an_exception_after_accept_closes_with_1011_and_is_logged(
    client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()

    @app.websocket("/crash")
    async def crash(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise ValueError("boom after accept")

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.websockets"), \
            client_for(app).websocket_connect("/crash") as ws:
        ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1011
    assert any(r.exc_info and "boom after accept" in str(r.exc_info[1]) for r in caplog.records)


def test_returning_after_accept_closes_with_1000_and_close_takes_a_code_and_reason(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/bye")
    async def bye(websocket: WebSocket, code: int | None = None) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        if code is not None:
            await websocket.close(code, "custom reason")

    client = client_for(app)
    with client.websocket_connect("/bye") as ws:
        assert ws.receive_text() == "hi"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert (closed.value.code, closed.value.reason) == (1000, "")
    with client.websocket_connect("/bye?code=4001") as ws:
        assert ws.receive_text() == "hi"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert (closed.value.code, closed.value.reason) == (4001, "custom reason")


def test_the_client_closing_raises_websocket_disconnect_in_the_handler(client_for: MakeClient) -> None:
    app = App()
    seen: list[Any] = []

    @app.websocket("/listen")
    async def listen(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                seen.append(await websocket.receive_text())
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason))
            seen.append(websocket.client_state)

    with client_for(app).websocket_connect("/listen") as ws:
        ws.send_text("one")
        ws.send_text("two")
        ws.close(4000, "done here")
    assert seen == ["one", "two", (4000, "done here"), WebSocketState.DISCONNECTED]


def test_iterators_end_when_the_client_disconnects(client_for: MakeClient) -> None:
    app = App()
    received: dict[str, list[Any]] = {"text": [], "bytes": []}

    @app.websocket("/text")
    async def text(websocket: WebSocket) -> None:
        await websocket.accept()
        async for item in websocket.iter_text():
            received["text"].append(item)

    @app.websocket("/bytes")
    async def binary(websocket: WebSocket) -> None:
        await websocket.accept()
        async for item in websocket.iter_bytes():
            received["bytes"].append(item)

    client = client_for(app)
    with client.websocket_connect("/text") as ws:
        ws.send_text("a")
        ws.send_text("b")
    with client.websocket_connect("/bytes") as ws:
        ws.send_bytes(b"x")
    assert received == {"text": ["a", "b"], "bytes": [b"x"]}


def test_subprotocol_and_extra_headers_in_the_handshake(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/proto")
    async def proto(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol=websocket.subprotocols[-1], headers={"x-server": "zig"})
        await websocket.send_text(",".join(websocket.subprotocols))

    with client_for(app).websocket_connect("/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.response_headers["x-server"] == "zig"
        assert ws.receive_text() == "chat.v1,chat.v2"


def test_accepting_a_subprotocol_the_client_did_not_offer_is_an_error(client_for: MakeClient,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/proto")
    async def proto(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-ws")

    with caplog.at_level(logging.ERROR, logger="zigmund_fast.websockets"), pytest.raises(WebSocketRejected) as refused:
        client_for(app).websocket_connect("/proto", subprotocols=["chat"])
    assert refused.value.status_code == 500
    assert "was not offered by the client" in caplog.text


def test_states_url_client_and_misuse_errors(client_for: MakeClient) -> None:
    app = App()
    report: dict[str, Any] = {}

    @app.websocket("/states")
    async def states(websocket: WebSocket) -> None:
        report["before"] = (websocket.client_state, websocket.application_state)
        with pytest.raises(RuntimeError, match="accept"):
            await websocket.receive_text()
        with pytest.raises(RuntimeError, match="accept"):
            await websocket.send_text("too early")
        await websocket.accept()
        report["after_accept"] = (websocket.client_state, websocket.application_state)
        report["url"] = websocket.url
        report["client"] = websocket.client
        with pytest.raises(RuntimeError, match="already"):
            await websocket.accept()
        message = await websocket.receive_bytes()
        with pytest.raises(TypeError, match="binary"):
            await websocket.receive_text()
        with pytest.raises(ValueError, match="close code"):
            await websocket.close(1005)
        await websocket.close()
        report["after_close"] = websocket.application_state
        with pytest.raises(RuntimeError, match="close message has been sent"):
            await websocket.send_bytes(message)
        with pytest.raises(RuntimeError, match="close message has been sent"):
            await websocket.close()

    with client_for(app).websocket_connect("/states?x=1") as ws:
        ws.send_bytes(b"first")
        ws.send_bytes(b"second")
        with pytest.raises(WebSocketDisconnect):
            ws.receive()
    assert report["before"] == (WebSocketState.CONNECTING, WebSocketState.CONNECTING)
    assert report["after_accept"] == (WebSocketState.CONNECTED, WebSocketState.CONNECTED)
    assert report["url"] == "ws://testserver/states?x=1"
    assert report["client"] == ("testclient", 50000)
    assert report["after_close"] == WebSocketState.DISCONNECTED


def test_observed_upgrades_are_reported_with_their_status(client_for: MakeClient) -> None:
    from zigmund_fast.observability import MemorySink

    app = echo_app()
    sink = MemorySink()
    app.add_sink(sink)
    client = client_for(app)
    with client.websocket_connect("/echo") as ws:
        ws.send_text("x")
        assert ws.receive_text() == "x"
    with pytest.raises(WebSocketRejected):
        client.websocket_connect("/nowhere")
    ends = sink.of_kind("request.end")
    assert [(e.data["target"], e.data["status"]) for e in ends] == [("/echo", 101), ("/nowhere", 403)]
    assert ends[0].data["route"] == "/echo"


def test_only_one_coroutine_may_wait_for_the_next_message(client_for: MakeClient) -> None:
    app = App()

    @app.websocket("/two-readers")
    async def two_readers(websocket: WebSocket) -> None:
        import asyncio

        await websocket.accept()
        first = asyncio.ensure_future(websocket.receive_text())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already waiting"):
            await websocket.receive_text()
        await websocket.send_text("first got " + await first)

    with client_for(app).websocket_connect("/two-readers") as ws:
        ws.send_text("it")
        assert ws.receive_text() == "first got it"


def test_background_tasks_run_after_the_handler_returns(client_for: MakeClient) -> None:
    app = App()
    log: list[str] = []

    @app.websocket("/tasks")
    async def with_tasks(websocket: WebSocket, tasks: zigmund.BackgroundTasks, fail: bool = False) -> None:
        await websocket.accept()
        tasks.add(log.append, "task ran")
        await websocket.receive_text()
        log.append("handler done")
        if fail:
            raise RuntimeError("handler failed")

    client = client_for(app)
    with client.websocket_connect("/tasks") as ws:
        assert log == []  # the task was added, but the handler is still running
        ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000
    assert log == ["handler done", "task ran"]
    log.clear()
    with client.websocket_connect("/tasks?fail=true") as ws:
        ws.send_text("go")
    assert log == ["handler done"]  # a failed handler's tasks are discarded, as for HTTP


def test_registration_errors_are_readable() -> None:
    app = App()

    def sync_handler(websocket: WebSocket) -> None:
        pass

    with pytest.raises(TypeError, match="must be an async def"):
        app.websocket("/sync")(sync_handler)

    async def with_body(websocket: WebSocket, payload: dict[str, Any]) -> None:
        pass

    with pytest.raises(TypeError, match="request body"):
        app.add_websocket_route("/body", with_body)

    async def http_handler(websocket: WebSocket) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match="app.websocket"):
        app.get("/http", http_handler)

    async def fine(websocket: WebSocket) -> None:
        pass

    app.websocket("/fine", fine)
    with pytest.raises(ValueError, match="already registered"):
        app.websocket("/fine", fine)


def test_router_websocket_routes_get_the_prefix_and_dependencies(client_for: MakeClient) -> None:
    calls: list[str] = []

    async def audit(websocket: WebSocket) -> None:
        calls.append(websocket.path)

    router = zigmund.Router(prefix="/live", dependencies=[zigmund.Depends(audit)])

    @router.websocket("/{channel}")
    async def channel(websocket: WebSocket, channel: str) -> None:
        await websocket.accept()
        await websocket.send_text(channel)

    app = App()
    app.include_router(router, prefix="/v1")
    with client_for(app).websocket_connect("/v1/live/news") as ws:
        assert ws.receive_text() == "news"
    assert calls == ["/v1/live/news"]


def test_websocket_routes_stay_out_of_openapi_and_http_routing(client_for: MakeClient) -> None:
    app = echo_app()
    assert [route.path for route in app.websocket_routes] == ["/echo", "/json"]
    assert "/echo" not in app.openapi()["paths"]
    assert all(route.path != "/echo" for route in app.routes)


def test_routes_command_lists_websocket_routes(capsys: pytest.CaptureFixture[str]) -> None:
    from zigmund_fast.cli import _print_routes

    _print_routes(echo_app())
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["WEBSOCKET", "/echo", "echo"] for line in lines)


# The handshake's checks, on requests built by hand


def upgrade_request(**overrides: str | None) -> Any:
    from zigmund_fast.requests import Request

    headers = {"host": "x", "upgrade": "websocket", "connection": "keep-alive, Upgrade",
               "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13"}
    headers.update(overrides)
    raw = [(k.encode(), v.encode()) for k, v in headers.items() if v is not None]
    return Request("GET", "/ws", b"", raw, b"", None)


def test_accept_key_matches_rfc_6455_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(("overrides", "problem"), [
    ({}, None),
    ({"connection": "keep-alive"}, "Connection"),
    ({"upgrade": "h2c"}, "Upgrade"),
    ({"sec-websocket-version": None}, "missing Sec-WebSocket-Version"),
    ({"sec-websocket-version": "8"}, "unsupported Sec-WebSocket-Version: 8"),
    ({"sec-websocket-key": None}, "missing Sec-WebSocket-Key"),
    ({"sec-websocket-key": "abc"}, "invalid Sec-WebSocket-Key"),
    ({"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZSE="}, "expected 16 bytes"),  # 17 bytes
])
def test_handshake_problems_are_named(overrides: dict[str, str | None], problem: str | None) -> None:
    found = handshake_problem(upgrade_request(**overrides))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_websocket_settings_from_config_and_command_line() -> None:
    from zigmund_fast.cli import _parser, _worker_argv
    from zigmund_fast.server.config import Config

    for bad in ({"ws_max_size": 0}, {"ws_max_queue": 0}, {"ws_ping_interval": -1.0}, {"ws_ping_timeout": 0}):
        with pytest.raises(ValueError, match="ws_"):
            Config(app=App(), **bad)
    Config(app=App(), ws_ping_interval=None, ws_ping_timeout=None)
    args = _parser().parse_args(["serve", "m:app", "--ws-max-size", "1024", "--ws-max-queue", "8",
                                 "--ws-ping-interval", "0", "--ws-ping-timeout", "5"])
    argv = " ".join(_worker_argv(args, 3, 4))
    assert "--ws-max-size 1024 --ws-max-queue 8 --ws-ping-interval 0.0 --ws-ping-timeout 5.0" in argv

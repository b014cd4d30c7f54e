"""Config.gc_freeze: objects that exist once the app has started leave the collector's scans, until shutdown."""

from __future__ import annotations

import gc
from collections.abc import Callable

from zigmund_fast import App
from zigmund_fast.cli import _parser, _worker_argv

from ..conftest import RunningServer, read_response


def _hello_app() -> App:
    app = App()
    app.get("/", lambda: {"ok": True})
    return app


def test_a_started_server_freezes_the_startup_objects_and_unfreezes_them_at_shutdown(
    serve: Callable[..., RunningServer],
) -> None:
    gc.unfreeze()
    server = serve(_hello_app(), gc_freeze=True)  # the default (this suite's fixture turns it off)
    assert gc.get_freeze_count() > 1000  # the app, the server, the imported modules' objects
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock).status == 200
    assert server.stop() == 0
    assert gc.get_freeze_count() == 0


def test_gc_freeze_can_be_turned_off(serve: Callable[..., RunningServer]) -> None:
    gc.unfreeze()
    serve(_hello_app(), gc_freeze=False)
    assert gc.get_freeze_count() == 0


def test_the_cli_flag_reaches_the_workers() -> None:
    args = _parser().parse_args(["serve", "mod:app", "--workers", "2", "--no-gc-freeze"])
    assert args.no_gc_freeze
    assert "--no-gc-freeze" in _worker_argv(args, 3, 4)
    assert "--no-gc-freeze" not in _worker_argv(_parser().parse_args(["serve", "mod:app"]), 3, 4)

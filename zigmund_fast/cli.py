"""The ``zigmund`` command: ``serve``, ``routes`` and ``openapi`` for an app given as ``MODULE:ATTR``."""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any


class AppImportError(Exception):
    pass


def import_app(target: str) -> Any:
    """Import ``module.path:attr`` (the current directory is on ``sys.path``, as with uvicorn)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise AppImportError(
            f"app must be given as MODULE:ATTR (for example examples.background_tasks:app), got {target!r}"
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppImportError(f"could not import module {module_name!r} (is the current directory right?)") from exc
        raise
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppImportError(f"module {module_name!r} has no attribute {attr!r}") from None
    from zigmund_fast.app import App

    if not isinstance(obj, App):
        raise AppImportError(f"{target} is a {type(obj).__name__}, not a zigmund_fast.App")
    return obj


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zigmund", description="zigmund_fast command line")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve an app")
    serve.add_argument("app", help="MODULE:ATTR, e.g. examples.background_tasks:app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--timeout-keep-alive", type=float, default=5.0)
    serve.add_argument("--timeout-graceful-shutdown", type=float, default=None)
    serve.add_argument("--timeout-request-head", type=float, default=10.0,
                       help="seconds to receive a request's head (408 past it)")
    serve.add_argument("--timeout-request-body", type=float, default=30.0,
                       help="seconds a request body may stall between bytes (408 past it)")
    serve.add_argument("--timeout-handler", type=float, default=None,
                       help="seconds a handler may run before it is cancelled and 503 is sent (off by default)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--limit-concurrency", type=int, default=None,
                       help="open connections per worker before new ones get 503")
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    serve.add_argument("--access-log-format", default="combined", choices=["combined", "json"])
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="comma-separated proxy addresses to trust, or '*'")
    serve.add_argument("--uds", default=None, help="serve on this Unix domain socket instead of host/port")
    serve.add_argument("--ssl-certfile", default=None, help="PEM certificate chain: serve HTTPS")
    serve.add_argument("--ssl-keyfile", default=None, help="PEM private key for --ssl-certfile")
    serve.add_argument("--fd", type=int, default=None, help="serve on this inherited listening socket descriptor")
    serve.add_argument("--no-gc-freeze", action="store_true",
                       help="don't gc.freeze() the objects that exist once the app has started")
    serve.add_argument("--root-path", default="", help="path prefix a proxy serves the app under, e.g. /api")
    serve.add_argument("--reload", action="store_true", help="restart the worker when a .py file changes")
    serve.add_argument("--reload-dir", action="append", default=[], dest="reload_dirs",
                       help="directory to watch with --reload (repeatable; default: the current directory)")
    serve.add_argument("--ws-max-size", type=int, default=16 * 1024 * 1024,
                       help="largest WebSocket message in bytes (bigger ones close with 1009)")
    serve.add_argument("--ws-max-queue", type=int, default=32,
                       help="unread WebSocket messages per connection before the server stops reading")
    serve.add_argument("--ws-ping-interval", type=float, default=20.0,
                       help="seconds between WebSocket pings from the server (0: none)")
    serve.add_argument("--ws-ping-timeout", type=float, default=20.0,
                       help="seconds to wait for a WebSocket pong before closing with 1011 (0: forever)")
    serve.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    routes = commands.add_parser("routes", help="print the route table of an app")
    routes.add_argument("app", help="MODULE:ATTR")
    openapi = commands.add_parser("openapi", help="print the OpenAPI document of an app as JSON")
    openapi.add_argument("app", help="MODULE:ATTR")
    return parser


def _print_routes(app: Any) -> None:
    rows = [(",".join(route.methods), route.path, route.name) for route in app.routes]
    rows += [("WEBSOCKET", route.path, route.name) for route in getattr(app, "websocket_routes", ())]
    width_methods = max((len(r[0]) for r in rows), default=6)
    width_path = max((len(r[1]) for r in rows), default=4)
    print(f"{'METHODS':<{width_methods}}  {'PATH':<{width_path}}  HANDLER")
    for methods, path, name in rows:
        print(f"{methods:<{width_methods}}  {path:<{width_path}}  {name}")


# serve options a spawned worker gets as they were given (the listener and the worker count are the supervisor's)
_WORKER_OPTIONS = (
    "timeout_keep_alive", "timeout_graceful_shutdown", "timeout_request_head", "timeout_request_body",
    "timeout_handler", "log_level", "limit_concurrency", "access_log_format",
    "forwarded_allow_ips", "ssl_certfile", "ssl_keyfile", "root_path",
    "ws_max_size", "ws_max_queue", "ws_ping_interval", "ws_ping_timeout",
)
_WORKER_FLAGS = ("access_log", "proxy_headers", "no_gc_freeze")


def _worker_argv(args: argparse.Namespace, listen_fd: int, ready_fd: int) -> list[str]:
    """The command line of one worker process started by the supervisor."""
    argv = [sys.executable, "-m", "zigmund_fast", "serve", args.app, "--fd", str(listen_fd), "--ready-fd", str(ready_fd)]
    for name in _WORKER_OPTIONS:
        value = getattr(args, name)
        if value is not None and value != "":
            argv += ["--" + name.replace("_", "-"), str(value)]
    argv += ["--" + name.replace("_", "-") for name in _WORKER_FLAGS if getattr(args, name)]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("routes", "openapi"):
        try:
            app = import_app(args.app)
        except AppImportError as exc:
            print(f"zigmund: error: {exc}", file=sys.stderr)
            return 2
        if args.command == "routes":
            _print_routes(app)
        else:
            print(json.dumps(app.openapi(), indent=2))
        return 0
    if args.command == "serve":
        from zigmund_fast.server.config import Config
        from zigmund_fast.server.supervisor import run

        try:
            app = import_app(args.app)
            if args.access_log:
                from zigmund_fast.observability import AccessLogSink

                app.add_sink(AccessLogSink(format=args.access_log_format))
            if args.root_path:
                app.root_path = args.root_path
            config = Config(
                app=app, host=args.host, port=args.port, workers=args.workers,
                timeout_keep_alive=args.timeout_keep_alive,
                timeout_graceful_shutdown=args.timeout_graceful_shutdown, log_level=args.log_level,
                timeout_request_head=args.timeout_request_head, timeout_request_body=args.timeout_request_body,
                timeout_handler=args.timeout_handler,
                uds=args.uds, limit_concurrency=args.limit_concurrency, proxy_headers=args.proxy_headers,
                forwarded_allow_ips=args.forwarded_allow_ips, ssl_certfile=args.ssl_certfile,
                ssl_keyfile=args.ssl_keyfile, fd=args.fd, root_path=args.root_path, reload=args.reload,
                reload_dirs=tuple(args.reload_dirs), ready_fd=args.ready_fd,
                ws_max_size=args.ws_max_size, ws_max_queue=args.ws_max_queue,
                ws_ping_interval=args.ws_ping_interval or None, ws_ping_timeout=args.ws_ping_timeout or None,
                gc_freeze=not args.no_gc_freeze,
            )
        except (AppImportError, ValueError) as exc:
            print(f"zigmund: error: {exc}", file=sys.stderr)
            return 2
        return run(config, functools.partial(_worker_argv, args))
    return 2  # pragma: no cover - argparse enforces the command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

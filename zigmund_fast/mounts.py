"""``app.mount(path, target)``: requests under a path prefix go to another App, ``StaticFiles``, or any mountable.

A mountable is an object with

    def handle_mounted(self, request: Request) -> Response | Awaitable[Response]

(``async def`` is fine). Before it is called, the mount prefix is moved from
``request.path`` to ``request.root_path``: a request for ``/static/css/a.css``
through ``app.mount("/static", ...)`` arrives with ``path == "/css/a.css"`` and
``root_path == "/static"``. An exception it raises (``HTTPException(404)``,
say) is answered by the mounting app's exception handlers. A mounted ``App``
is dispatched as a whole (its own routes, middleware and mounts); its
lifespan is not run (as in Starlette), and its ``root_path`` is set to the
prefix, so its ``/docs`` find its ``/openapi.json``.

An app's own routes win over its mounts: mounts are consulted only for a
path no route matched, so an app that mounts nothing pays nothing, and a
mount on ``"/"`` serves whatever the routes don't. Among mounts the longest
prefix wins. A request for the bare prefix (``/static``) is redirected (307)
to ``/static/``, as Starlette does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from zigmund_fast.responses import RedirectResponse, Response

if TYPE_CHECKING:
    from zigmund_fast.app import App
    from zigmund_fast.requests import Request

# Characters kept as they are when a decoded path goes back into a URL.
_PATH_SAFE = "/:@!$&'()*+,;="


class Mountable(Protocol):
    def handle_mounted(self, request: Request) -> Response | Awaitable[Response]: ...


Handler = Callable[["Request"], Any]


class Mount:
    """One mounted target under ``prefix`` (``""`` for a mount on ``/``)."""

    __slots__ = ("handler", "name", "prefix", "slash_prefix", "target")

    def __init__(self, prefix: str, target: Any, handler: Handler, name: str | None) -> None:
        self.prefix = prefix
        self.slash_prefix = prefix + "/"
        self.target = target
        self.handler = handler
        self.name = name

    def __repr__(self) -> str:
        return f"<Mount {self.prefix or '/'} -> {type(self.target).__name__}>"


class Mounts:
    """The mounts of one app, longest prefix first; ``dispatch`` serves a request no route matched."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.mounts: list[Mount] = []

    def add(self, path: str, target: Any, name: str | None = None) -> Mount:
        prefix = mount_prefix(path)
        if any(mount.prefix == prefix for mount in self.mounts):
            raise ValueError(f"something is already mounted at {path!r}")
        from zigmund_fast.app import App

        if target is self.app:
            raise ValueError("an app cannot be mounted on itself")
        if isinstance(target, App):
            target.root_path = self.app.root_path + prefix

            def handler(request: Request) -> Any:
                # NOTE: looked up per request: middleware added to the sub-app later replaces `dispatch`.
                return target.dispatch(request)

        else:
            handler = getattr(target, "handle_mounted", None)
            if not callable(handler):
                raise TypeError(
                    f"cannot mount {type(target).__name__} at {path!r}: expected a zigmund_fast App, StaticFiles, "
                    "or an object with handle_mounted(request) -> Response | Awaitable[Response]"
                )
        mount = Mount(prefix, target, handler, name)
        self.mounts.append(mount)
        self.mounts.sort(key=lambda entry: len(entry.prefix), reverse=True)
        return mount

    def dispatch(self, request: Request) -> Response | asyncio.Future[Response]:
        """Called by ``App.dispatch`` for a path no route matched."""
        path = request.path
        for mount in self.mounts:
            if path.startswith(mount.slash_prefix):
                request.root_path = request.root_path + mount.prefix
                request.path = path[len(mount.prefix):]
                return self._call(mount.handler, request)
            if path == mount.prefix:
                return RedirectResponse(absolute_url(request, request.root_path + path + "/"), 307)
        return self.app.route_not_found(request)

    def _call(self, handler: Handler, request: Request) -> Response | asyncio.Future[Response]:
        on_error = self.app.error_response
        try:
            result = handler(request)
        except Exception as exc:  # noqa: BLE001 - the mounting app's error handling decides (404, 500...)
            return on_error(request, exc)
        if isinstance(result, (Response, asyncio.Future)):
            return result
        if inspect.isawaitable(result):
            return asyncio.get_running_loop().create_task(_await_mounted(result, request, on_error))
        return on_error(request, TypeError(f"a mounted handler must return a Response, got {type(result).__name__}"))


async def _await_mounted(
    awaitable: Awaitable[Any], request: Request, on_error: Callable[[Request, BaseException], Response],
) -> Response:
    try:
        result = await awaitable
    except Exception as exc:  # noqa: BLE001 - the mounting app's error handling decides (404, 500...)
        return on_error(request, exc)
    if not isinstance(result, Response):
        return on_error(request, TypeError(f"a mounted handler must return a Response, got {type(result).__name__}"))
    return result


def mount_prefix(path: str) -> str:
    """``"/static"`` or ``"/static/"`` -> ``"/static"``; ``"/"`` -> ``""``."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"a mount path must start with '/': {path!r}")
    if "{" in path or "}" in path:
        raise ValueError(f"a mount path cannot have path parameters: {path!r}")
    return path.rstrip("/")


def path_and_query(request: Request, path: str) -> str:
    """``path`` (decoded, as in ``request.path``; quoted here) and the request's query string."""
    query = "?" + request.query_string.decode("latin-1") if request.query_string else ""
    return quote(path, safe=_PATH_SAFE) + query


def absolute_url(request: Request, path: str) -> str:
    """``scheme://host`` + ``path`` + the request's query, for a redirect (no host: just the rest)."""
    host = request.headers.get("host")
    location = path_and_query(request, path)
    return f"{request.scheme}://{host}{location}" if host else location


__all__ = ["Mount", "Mountable", "Mounts", "absolute_url", "mount_prefix", "path_and_query"]

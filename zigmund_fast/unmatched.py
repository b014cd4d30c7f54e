"""What an app answers when no route takes a request: a trailing-slash redirect, 404, or 405.

Only requests that matched nothing come here, so none of this costs a
matched route anything.

- ``redirect_slashes`` (on by default, as in Starlette): when no route
  matches ``/items`` but one matches ``/items/`` (or the other way round,
  trailing slashes stripped), the answer is ``307`` with a ``location`` to
  that path, the query string kept. Any method is redirected (307 keeps it),
  as in FastAPI; ``/`` never is.
- 404 and 405 go through the app's exception handlers as an
  ``HTTPException(404)`` / ``HTTPException(405, headers={"allow": ...})``
  when a handler is registered for ``HTTPException`` or for that status
  code, as FastAPI does; without one they are answered from prebuilt bytes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from zigmund_fast.exceptions import HTTPException
from zigmund_fast.mounts import absolute_url
from zigmund_fast.responses import RedirectResponse, Response
from zigmund_fast.routing import allowed_methods

if TYPE_CHECKING:
    from zigmund_fast.app import App
    from zigmund_fast.requests import Request
    from zigmund_fast.routing import Route

_NOT_FOUND_BODY = b'{"detail":"Not Found"}'
_NOT_ALLOWED_BODY = b'{"detail":"Method Not Allowed"}'


def slash_twin(path: str) -> str | None:
    """``/items`` -> ``/items/``; ``/items//`` -> ``/items``; None for ``/`` and paths of slashes only."""
    if path.endswith("/"):
        twin = path.rstrip("/")
        return twin or None
    return path + "/"


def slash_redirect(app: App, request: Request) -> Response | None:
    """A 307 to the request's path with(out) its trailing slash, if a route of ``app`` matches that."""
    twin = slash_twin(request.path)
    # NOTE: a location starting with "//" would be read as another host when no Host header makes it absolute.
    if twin is None or twin.startswith("//"):
        return None
    table = app._table.static.get(twin)
    if table is None:
        table, _ = app._table.lookup(twin)
    if table is None:
        return None
    return RedirectResponse(absolute_url(request, request.root_path + twin), 307)


def handles_status(app: App, status_code: int) -> bool:
    """Whether ``app`` has a handler an ``HTTPException(status_code)`` would reach."""
    handlers: dict[Any, Any] = app.exception_handlers
    return bool(handlers) and (status_code in handlers or HTTPException in handlers)


def not_found(app: App, request: Request) -> Response | asyncio.Future[Response]:
    """The answer for a request no route and no mount of ``app`` matched."""
    if app.redirect_slashes:
        redirect = slash_redirect(app, request)
        if redirect is not None:
            return redirect
    if handles_status(app, 404):
        return app.error_response(request, HTTPException(404))
    return Response(_NOT_FOUND_BODY, 404, None, "application/json")


def method_not_allowed(
    app: App, request: Request, table: dict[str, Route],
) -> Response | asyncio.Future[Response]:
    """The answer for a path some route matches, but not with the request's method."""
    allow = {"allow": allowed_methods(table)}
    if handles_status(app, 405):
        return app.error_response(request, HTTPException(405, headers=allow))
    return Response(_NOT_ALLOWED_BODY, 405, allow, "application/json")


__all__ = ["handles_status", "method_not_allowed", "not_found", "slash_redirect", "slash_twin"]

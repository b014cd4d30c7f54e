"""``HTTPSRedirectMiddleware``: send every plain-HTTP request to the same URL over HTTPS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from zigmund_fast.mounts import path_and_query
from zigmund_fast.responses import PlainTextResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

_REDIRECT_SCHEMES = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Redirect ``http``/``ws`` requests (307, method and body kept) to ``https``/``wss``.

    The scheme is the listener's (``https`` with ``--ssl-certfile``) or, behind a
    trusted proxy with ``--proxy-headers``, the one ``X-Forwarded-Proto`` gives.
    A default port (80 or 443) is dropped from the target; any other is kept.
    """

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        scheme = _REDIRECT_SCHEMES.get(request.scheme)
        if scheme is None:
            return await call_next(request)
        host = request.headers.get("host")
        if not host:
            return PlainTextResponse("Invalid host header", 400)
        name, colon, port = host.rpartition(":")
        if colon and port in ("80", "443") and not name.endswith(":"):  # not an unbracketed IPv6 address
            host = name
        return RedirectResponse(f"{scheme}://{host}{path_and_query(request, request.root_path + request.path)}", 307)


__all__ = ["HTTPSRedirectMiddleware"]

"""``CORSMiddleware``: answers CORS preflights and marks responses for cross-origin reads, as Starlette does.

- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``)
  is answered here, without reaching the routes: ``200 OK`` with the allowed
  origin, methods, headers and max-age, or ``400 Disallowed CORS origin,
  method, headers`` naming what was refused (with the same headers).
- Any other request goes through; if it carried ``Origin``, the response gets
  ``Access-Control-Allow-Origin`` (``*``, or the origin itself when origins are
  listed or credentials are allowed), ``-Allow-Credentials`` and
  ``-Expose-Headers`` as configured. Every response gets ``Vary: Origin``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

from zigmund_fast.middleware._headers import add_vary
from zigmund_fast.responses import PlainTextResponse, Response

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
# Request headers a browser may always send cross-origin; allowed whatever allow_headers says.
SAFELISTED_HEADERS = frozenset({"Accept", "Accept-Language", "Content-Language", "Content-Type"})
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, " \
                 "Access-Control-Request-Private-Network"


class CORSMiddleware:
    """Cross-Origin Resource Sharing.

    Parameters:
        allow_origins: origins allowed to read responses (``"https://a.com"``);
            ``"*"`` allows any.
        allow_origin_regex: origins matching this regex (in full) are allowed too.
        allow_methods: methods a preflight may ask for; ``"*"`` for all.
        allow_headers: request headers a preflight may ask for (the CORS-safelisted
            ones always are); ``"*"`` echoes whatever was asked.
        allow_credentials: allow cookies/authorization: the origin is echoed
            instead of ``*`` and ``Access-Control-Allow-Credentials: true`` is sent.
        allow_private_network: answer ``Access-Control-Request-Private-Network``.
        expose_headers: response headers the browser may show to scripts.
        max_age: seconds a browser may cache a preflight answer.
    """

    def __init__(
        self,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        for name, value in (("allow_origins", allow_origins), ("allow_methods", allow_methods),
                            ("allow_headers", allow_headers), ("expose_headers", expose_headers)):
            if isinstance(value, str):
                raise TypeError(f"{name} must be a list of strings, got the string {value!r}")
        self.allow_origins = frozenset(allow_origins)
        self.allow_all_origins = "*" in self.allow_origins
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_methods: tuple[str, ...] = ALL_METHODS if "*" in allow_methods else tuple(allow_methods)
        self.allow_all_headers = "*" in allow_headers
        allowed_headers = sorted(SAFELISTED_HEADERS | set(allow_headers) - {"*"})
        self.allow_headers = frozenset(header.lower() for header in allowed_headers)
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # NOTE: with credentials a browser refuses "*", so the origin is always named then.
        self.echo_origin = not self.allow_all_origins or allow_credentials

        # Headers every simple (non-preflight) response to a request with an Origin gets.
        self.simple_headers: list[tuple[str, str]] = []
        if self.allow_all_origins:
            self.simple_headers.append(("access-control-allow-origin", "*"))
        if allow_credentials:
            self.simple_headers.append(("access-control-allow-credentials", "true"))
        if expose_headers:
            self.simple_headers.append(("access-control-expose-headers", ", ".join(expose_headers)))

        # Headers of every preflight answer, before the per-request ones.
        self.preflight_headers: dict[str, str] = {"vary": PREFLIGHT_VARY}
        if not self.echo_origin:
            self.preflight_headers["access-control-allow-origin"] = "*"
        self.preflight_headers["access-control-allow-methods"] = ", ".join(self.allow_methods)
        self.preflight_headers["access-control-max-age"] = str(max_age)
        if not self.allow_all_headers:
            self.preflight_headers["access-control-allow-headers"] = ", ".join(allowed_headers)
        if allow_credentials:
            self.preflight_headers["access-control-allow-credentials"] = "true"

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin) is not None

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        headers = request.headers
        origin = headers.get("origin")
        if origin is not None and request.method == "OPTIONS" and "access-control-request-method" in headers:
            return self.preflight_response(request, origin)
        response = await call_next(request)
        response_headers = response.headers
        if origin is not None:
            for name, value in self.simple_headers:
                response_headers[name] = value
            if (self.allow_all_origins and self.allow_credentials) or (
                not self.allow_all_origins and self.is_allowed_origin(origin)
            ):
                response_headers["access-control-allow-origin"] = origin
        add_vary(response_headers, "Origin")
        return response

    def preflight_response(self, request: Request, origin: str) -> Response:
        """The answer to a preflight: 200 ``OK``, or 400 naming the refused parts."""
        asked = request.headers
        headers = dict(self.preflight_headers)
        failures = []
        if self.is_allowed_origin(origin):
            if self.echo_origin:
                headers["access-control-allow-origin"] = origin
        else:
            failures.append("origin")
        if asked.get("access-control-request-method") not in self.allow_methods:
            failures.append("method")
        requested_headers = asked.get("access-control-request-headers")
        if requested_headers is not None:
            if self.allow_all_headers:
                headers["access-control-allow-headers"] = requested_headers
            elif any(name.strip().lower() not in self.allow_headers for name in requested_headers.split(",")):
                failures.append("headers")
        if asked.get("access-control-request-private-network") is not None:
            if self.allow_private_network:
                headers["access-control-allow-private-network"] = "true"
            else:
                failures.append("private-network")
        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), 400, headers)
        return PlainTextResponse("OK", 200, headers)


__all__ = ["ALL_METHODS", "CORSMiddleware"]

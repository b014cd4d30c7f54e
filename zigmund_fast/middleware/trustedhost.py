"""``TrustedHostMiddleware``: refuse requests whose ``Host`` header is not one of the allowed hosts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from zigmund_fast.mounts import path_and_query
from zigmund_fast.responses import PlainTextResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

WILDCARD_RULE = "Domain wildcard patterns must be like '*.example.com'."


class TrustedHostMiddleware:
    """Answer ``400 Invalid host header`` unless the request's host is allowed.

    Parameters:
        allowed_hosts: host names (any port), ``"*.example.com"`` for every
            subdomain of example.com (not example.com itself), or ``"*"`` for any.
        www_redirect: a request for ``example.com`` when only ``www.example.com``
            is allowed is redirected (307) there instead of refused.
    """

    def __init__(self, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        if isinstance(allowed_hosts, str):
            raise TypeError(f"allowed_hosts must be a list of host names, got the string {allowed_hosts!r}")
        for pattern in allowed_hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(f"{WILDCARD_RULE} Got {pattern!r}")
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in self.allowed_hosts
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
                return True
        return False

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if self.allow_any:
            return await call_next(request)
        host = host_name(request.headers.get("host"))
        if host and self.is_allowed(host):
            return await call_next(request)
        if host and self.www_redirect and "www." + host in self.allowed_hosts:
            target = path_and_query(request, request.root_path + request.path)
            return RedirectResponse(f"{request.scheme}://www.{request.headers['host'].strip()}{target}", 307)
        return PlainTextResponse("Invalid host header", 400)


def host_name(value: str | None) -> str:
    """The lower-cased host of a ``Host`` header, without the port (``"[::1]:80"`` -> ``"[::1]"``); ``""`` if none."""
    if not value:
        return ""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end > 0 else ""
    return value.partition(":")[0]


__all__ = ["TrustedHostMiddleware", "host_name"]

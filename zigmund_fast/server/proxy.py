"""Trusting X-Forwarded-For / X-Forwarded-Proto from the proxies in front of the server (``--proxy-headers``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zigmund_fast.requests import Request


class ProxyHeaders:
    """Rewrites ``request.client`` and ``request.scheme`` for requests that come from a trusted proxy.

    Parameters:
        trusted: comma-separated IP addresses of the proxies, or ``"*"`` to trust any peer.

    The client is the right-most X-Forwarded-For address that is not itself a
    trusted proxy (each proxy appends the peer it saw), so a client cannot
    spoof its address by sending the header itself.
    """

    def __init__(self, trusted: str) -> None:
        entries = {entry.strip() for entry in trusted.split(",") if entry.strip()}
        self.trust_all = "*" in entries
        self.trusted = frozenset(entries - {"*"})

    def is_trusted(self, address: str | None) -> bool:
        return self.trust_all or address in self.trusted

    def apply(self, request: Request) -> None:
        peer = request.client[0] if request.client else None
        if not self.is_trusted(peer):
            return
        headers = request.headers
        proto = headers.get("x-forwarded-proto")
        if proto is not None:
            proto = proto.split(",")[-1].strip().lower()
            if proto in ("http", "https", "ws", "wss"):
                request.scheme = proto
        forwarded_for = headers.get("x-forwarded-for")
        if forwarded_for is not None:
            hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
            client = None
            for hop in reversed(hops):
                client = hop
                if not self.is_trusted(hop):
                    break
            if client is not None:
                request.client = (client, 0)

    def wrap(self, dispatch: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """``dispatch`` with the headers applied first (installed only with --proxy-headers: no cost otherwise)."""
        apply = self.apply

        def dispatch_behind_proxy(request: Request) -> Any:
            apply(request)
            return dispatch(request)

        return dispatch_behind_proxy

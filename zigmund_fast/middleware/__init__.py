"""Class middleware: a ``Middleware`` record for ``App(middleware=[...])``, and the built-ins.

A class middleware is any class whose instances are called as
``await instance(request, call_next)`` and return a ``Response``: the same
contract as ``@app.middleware("http")`` functions (there is no ASGI here).
``app.add_middleware(cls, **options)`` builds ``cls(**options)`` once and puts
it outermost. The request's background tasks stay attached to the request,
so a middleware can neither start them early nor lose them.

Built-ins: ``CORSMiddleware`` (``.cors``), ``GZipMiddleware`` (``.gzip``),
``TrustedHostMiddleware`` (``.trustedhost``), ``HTTPSRedirectMiddleware``
(``.httpsredirect``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from zigmund_fast.middleware.cors import CORSMiddleware
from zigmund_fast.middleware.gzip import GZipMiddleware
from zigmund_fast.middleware.httpsredirect import HTTPSRedirectMiddleware
from zigmund_fast.middleware.trustedhost import TrustedHostMiddleware

if TYPE_CHECKING:
    from zigmund_fast.app import App
    from zigmund_fast.requests import Request
    from zigmund_fast.responses import Response

CallNext = Callable[["Request"], Awaitable["Response"]]


class HTTPMiddleware(Protocol):
    async def __call__(self, request: Request, call_next: CallNext) -> Response: ...


class Middleware:
    """``Middleware(cls, *args, **options)``: a class middleware to build, for ``App(middleware=[...])``.

    The first in the list runs outermost (as in Starlette).
    """

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if not callable(cls):
            raise TypeError(f"Middleware() takes a middleware class, got {cls!r}")
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        options = [*map(repr, self.args), *(f"{key}={value!r}" for key, value in self.kwargs.items())]
        return f"Middleware({', '.join([getattr(self.cls, '__name__', repr(self.cls)), *options])})"


def install_middleware(app: App, records: Sequence[Middleware]) -> None:
    """``App(middleware=[...])``: add each record's middleware, the first one outermost."""
    for record in reversed(records):
        if not isinstance(record, Middleware):
            raise TypeError(f"App(middleware=[...]) takes Middleware(cls, **options) records, got {record!r}")
        app.add_middleware(record.cls, *record.args, **record.kwargs)


def build_middleware(cls: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``cls(*args, **kwargs)``, checked to be callable as ``instance(request, call_next)``."""
    if not callable(cls):
        raise TypeError(f"add_middleware() takes a middleware class, got {cls!r}")
    instance = cls(*args, **kwargs)
    if not callable(instance):
        raise TypeError(f"{getattr(cls, '__name__', cls)!s} instances must be callable as "
                        "`await instance(request, call_next)`; define `async def __call__(self, request, call_next)`")
    return instance


__all__ = [
    "CORSMiddleware",
    "GZipMiddleware",
    "HTTPMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "TrustedHostMiddleware",
    "build_middleware",
    "install_middleware",
]

"""The default exception handlers, to reuse from your own (as ``fastapi.exception_handlers`` offers)."""

from __future__ import annotations

from zigmund_fast.exceptions import HTTPException, RequestValidationError
from zigmund_fast.requests import Request
from zigmund_fast.responses import Response


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """``{"detail": exc.detail}`` with the exception's status and headers."""
    if exc.status_code in (204, 304):
        return Response(b"", exc.status_code, exc.headers)
    return Response.json({"detail": exc.detail}, exc.status_code, exc.headers)


async def request_validation_exception_handler(request: Request, exc: RequestValidationError) -> Response:
    """422 with ``{"detail": exc.errors()}``."""
    return Response.json({"detail": exc.errors()}, 422)


# Exceptions with a default handler: a handler registered for a base class (Exception) does not take them.
_DEFAULT_HANDLED = (HTTPException, RequestValidationError)


def handler_keys(exc: BaseException) -> list[type[BaseException] | int]:
    """The keys of ``app.exception_handlers`` that may handle ``exc``, the first registered one winning.

    As in Starlette: an ``HTTPException``'s status code first, then the
    exception's classes, most specific first. The walk stops at
    ``HTTPException`` and ``RequestValidationError``, whose built-in answers
    come before a handler for ``Exception``; any other error may finally be
    taken by a handler registered for ``500``.
    """
    keys: list[type[BaseException] | int] = [exc.status_code] if isinstance(exc, HTTPException) else []
    for cls in type(exc).__mro__:
        if cls is object:
            break
        keys.append(cls)
        if cls in _DEFAULT_HANDLED:
            return keys
    keys.append(500)
    return keys


def check_handler_key(key: object) -> None:
    """Raise at registration unless ``key`` is an exception class or an HTTP status code."""
    if isinstance(key, type) and issubclass(key, BaseException):
        return
    if isinstance(key, int) and not isinstance(key, bool) and 100 <= key <= 599:
        return
    raise TypeError(f"exception_handler() takes an exception class or an HTTP status code (100-599), got {key!r}")


__all__ = ["http_exception_handler", "request_validation_exception_handler"]

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


__all__ = ["http_exception_handler", "request_validation_exception_handler"]

"""Exceptions a handler may raise, and the FastAPI-shaped validation error body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any


class HTTPException(Exception):
    """Raise to answer with ``status_code`` and ``{"detail": detail}``."""

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        if detail is None:
            detail = HTTPStatus(status_code).phrase
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    def __repr__(self) -> str:
        return f"HTTPException(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(Exception):
    """The request did not match the handler's declared parameters (answered with 422)."""

    def __init__(self, errors: Sequence[dict[str, Any]], *, body: Any = None) -> None:
        self._errors = list(errors)
        # What the client sent, as FastAPI keeps it: the parsed JSON body (bytes if it was not JSON).
        self.body = body
        super().__init__(self._errors)

    def errors(self) -> list[dict[str, Any]]:
        """The errors, each ``loc`` a tuple as in FastAPI (``("query", "q")``; a list in the JSON body)."""
        return tuple_locs(self._errors)


class ResponseValidationError(Exception):
    """A handler's return value did not match its ``response_model`` (a bug in the app: answered with 500)."""

    def __init__(self, errors: Sequence[dict[str, Any]], where: str = "route") -> None:
        self._errors = list(errors)
        super().__init__(f"the value returned by {where} does not match its response_model: {self._errors}")

    def errors(self) -> list[dict[str, Any]]:
        return tuple_locs(self._errors)


def tuple_locs(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``errors`` with each ``loc`` a tuple (errors are built with lists; FastAPI's have tuples)."""
    return [{**error, "loc": tuple(error["loc"])} if "loc" in error else dict(error) for error in errors]

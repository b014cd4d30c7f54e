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

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        self._errors = list(errors)
        super().__init__(self._errors)

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)


class ResponseValidationError(Exception):
    """A handler's return value did not match its ``response_model`` (a bug in the app: answered with 500)."""

    def __init__(self, errors: Sequence[dict[str, Any]], where: str = "route") -> None:
        self._errors = list(errors)
        super().__init__(f"the value returned by {where} does not match its response_model: {self._errors}")

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)

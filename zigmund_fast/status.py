"""HTTP status codes as named constants, as ``starlette.status`` / ``fastapi.status`` spell them.

``status.HTTP_404_NOT_FOUND == 404``. Generated from the standard library's
``http.HTTPStatus``, so every code Python knows is here.
"""

from __future__ import annotations

from http import HTTPStatus

__all__: list[str] = []

for _status in HTTPStatus:
    _name = f"HTTP_{_status.value}_{_status.name}"
    globals()[_name] = _status.value
    __all__.append(_name)

# Older names some code still uses.
HTTP_422_UNPROCESSABLE_ENTITY = 422
HTTP_413_REQUEST_ENTITY_TOO_LARGE = 413
HTTP_414_REQUEST_URI_TOO_LONG = 414
HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE = 416
__all__ += ["HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_414_REQUEST_URI_TOO_LONG",
            "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE"]


def __getattr__(name: str) -> int:  # for type checkers and a readable error
    raise AttributeError(f"zigmund_fast.status has no {name!r}")

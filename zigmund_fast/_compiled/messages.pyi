from collections.abc import Mapping
from typing import Any

class RequestCore:
    method: str
    path: str
    query_string: bytes
    raw_headers: list[tuple[bytes, bytes]]
    _body: bytes
    client: tuple[str, int] | None
    http_version: str
    keep_alive: bool
    path_params: dict[str, Any]
    route: Any
    _state: Any
    _root_path: str | None
    background: Any
    _headers: Any
    _query: Any
    request_id: str | None
    started: float
    status: int
    response_size: int
    scheme: str
    def __init__(
        self,
        method: str,
        path: str,
        query_string: bytes,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes,
        client: tuple[str, int] | None,
        http_version: str = ...,
        keep_alive: bool = ...,
    ) -> None: ...

class ResponseCore:
    body: bytes
    status_code: int
    media_type: str | None
    _headers: Any
    background: Any
    @classmethod
    def json(cls, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Any: ...

def json_encode(value: Any) -> bytes: ...
def set_response_class(cls: type[ResponseCore]) -> None: ...
def new_response(cls: type[ResponseCore], body: bytes, status_code: int, media_type: str | None) -> ResponseCore: ...

class TasksCore:
    _items: list[Any]
    route: str | None
    request_id: str | None
    strategy: Any
    _when_done: list[Any] | None
    def add(self, func: Any, /, *args: Any, **kwargs: Any) -> None: ...

def new_tasks(cls: type[TasksCore]) -> TasksCore: ...

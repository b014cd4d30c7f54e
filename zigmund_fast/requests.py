"""The request object handed to handlers: lazy views over what the protocol parsed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from zigmund_fast._compiled.extract import parse_query
from zigmund_fast._compiled.messages import RequestCore

_json_decode = msgspec.json.decode


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive request headers; ``getlist`` returns repeated values."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        # NOTE: the protocol lower-cases names while parsing.
        self._raw = raw

    def __getitem__(self, name: str) -> str:
        key = name.lower().encode("latin-1")
        for raw_name, value in self._raw:
            if raw_name == key:
                return value.decode("latin-1")
        raise KeyError(name)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        key = name.lower().encode("latin-1")
        for raw_name, value in self._raw:
            if raw_name == key:
                return value.decode("latin-1")
        return default

    def getlist(self, name: str) -> list[str]:
        key = name.lower().encode("latin-1")
        return [value.decode("latin-1") for raw_name, value in self._raw if raw_name == key]

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for raw_name, _ in self._raw:
            seen.setdefault(raw_name.decode("latin-1"), None)
        return iter(seen)

    def __len__(self) -> int:
        return len({raw_name for raw_name, _ in self._raw})

    def raw(self) -> list[tuple[bytes, bytes]]:
        return list(self._raw)

    def __repr__(self) -> str:
        return f"Headers({[(n.decode('latin-1'), v.decode('latin-1')) for n, v in self._raw]!r})"


class QueryParams(Mapping[str, str]):
    """Query-string parameters; ``[key]`` is the last value, ``getlist`` all of them."""

    __slots__ = ("_items", "_last")

    def __init__(self, query_string: bytes | str) -> None:
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        self._items: list[tuple[str, str]] = parse_query(query_string)
        self._last = dict(self._items)

    def __getitem__(self, key: str) -> str:
        return self._last[key]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._last.get(key, default)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def __repr__(self) -> str:
        return f"QueryParams({self._items!r})"


class State(dict[str, Any]):
    """A dict whose keys also read and write as attributes: ``state.db`` is ``state["db"]``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {name!r}") from None


class Request(RequestCore):
    """One HTTP request, with everything read before the handler runs.

    The body is fully received (within the server's body limit) before the
    handler is called, so ``await request.body()`` never waits on the network.

    ``Request(method, path, query_string, raw_headers, body, client, http_version="1.1",
    keep_alive=True)``; the fields live in the compiled ``RequestCore`` (the protocol
    fills them without a Python call):

    - ``method``, ``path`` (percent-decoded), ``query_string`` (bytes), ``raw_headers``
      (lower-cased ``(name, value)`` bytes pairs), ``client``, ``http_version``, ``keep_alive``;
    - ``path_params``, ``route`` (set by dispatch), ``background`` (the request's
      ``BackgroundTasks``, made on first use), ``scheme``;
    - ``request_id``, ``started``, ``status``, ``response_size``: set only while
      observability is on (a sink is attached or ``request_ids=True``).
    """

    __slots__ = ()

    @property
    def state(self) -> State:
        """Per-request state (``request.state.user = ...``), seeded from the lifespan's state; made on first use."""
        state = self._state
        if state is None:
            state = self._state = State()
        return state

    @state.setter
    def state(self, value: dict[str, Any] | None) -> None:
        # NOTE: kept as given (callers may hold on to the dict they assign); a plain dict has no attributes.
        self._state = value  # type: ignore[assignment]

    @property
    def root_path(self) -> str:
        """The prefix of the mount this request was dispatched through (``""`` outside mounts)."""
        root_path = self._root_path
        return "" if root_path is None else root_path

    @root_path.setter
    def root_path(self, value: str) -> None:
        self._root_path = value

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self.query_string)
        return self._query

    @property
    def url(self) -> str:
        host = self.headers.get("host", "")
        query = "?" + self.query_string.decode("latin-1") if self.query_string else ""
        return f"{self.scheme}://{host}{self.root_path}{self.path}{query}"

    async def body(self) -> bytes:
        return self._body

    async def json(self) -> Any:
        return _json_decode(self._body)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"

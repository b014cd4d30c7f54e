"""Routes and the match table: static paths by dict lookup, templated ones by one compiled regex each."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from zigmund_fast._impl import DynamicRoutes, Matcher, RegexMatcher, SegmentMatcher
from zigmund_fast.injection import InjectionPlan, ParamSpec

F = TypeVar("F", bound=Callable[..., Any])

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")

_PLACEHOLDER = re.compile(r"{([^{}:]+)(?::([^{}]+))?}")


def compile_path(path: str) -> tuple[re.Pattern[str] | None, set[str]]:
    """``/items/{item_id}`` -> (regex, {"item_id"}); a static path -> (None, set())."""
    if not path.startswith("/"):
        raise ValueError(f"route path must start with '/': {path!r}")
    names: set[str] = set()
    pattern = "^"
    position = 0
    for match in _PLACEHOLDER.finditer(path):
        name, convertor = match.group(1), match.group(2)
        if not name.isidentifier():
            raise ValueError(f"path parameter {name!r} in {path!r} is not a valid Python identifier")
        if name in names:
            raise ValueError(f"path parameter {name!r} appears twice in {path!r}")
        if convertor not in (None, "path"):
            raise ValueError(f"unknown path convertor {convertor!r} in {path!r} (only ':path' is supported)")
        names.add(name)
        pattern += re.escape(path[position : match.start()])
        pattern += f"(?P<{name}>.*)" if convertor == "path" else f"(?P<{name}>[^/]+)"
        position = match.end()
    if not names:
        return None, names
    pattern += re.escape(path[position:]) + "$"
    return re.compile(pattern), names


class Route:
    """One registered operation (a path and one or more methods) and its resolved plan."""

    __slots__ = (
        "path", "methods", "endpoint", "name", "summary", "description", "tags", "status_code",
        "include_in_schema", "operation_id", "deprecated", "plan", "handle", "regex", "path_param_names",
        "options",
    )

    def __init__(
        self,
        path: str,
        methods: tuple[str, ...],
        endpoint: Callable[..., Any],
        plan: InjectionPlan,
        *,
        summary: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        status_code: int | None = None,
        include_in_schema: bool = True,
        operation_id: str | None = None,
        deprecated: bool = False,
        name: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.methods = methods
        self.endpoint = endpoint
        self.name = name or getattr(endpoint, "__name__", "endpoint")
        self.summary = summary
        self.description = description if description is not None else _docstring(endpoint)
        self.tags = list(tags or [])
        self.status_code = status_code or 200
        self.include_in_schema = include_in_schema
        self.operation_id = operation_id
        self.deprecated = deprecated
        self.plan = plan
        self.regex, self.path_param_names = compile_path(path)
        self.options = options or {}
        self.handle: Callable[[Any], Any] = _unbuilt

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        return self.plan.params

    def __repr__(self) -> str:
        return f"<Route {'|'.join(self.methods)} {self.path} -> {self.name}>"


def _unbuilt(request: Any) -> Any:  # pragma: no cover - replaced at registration
    raise RuntimeError("route handler was not built")


def _docstring(endpoint: Any) -> str | None:
    doc = getattr(endpoint, "__doc__", None)
    if not doc:
        return None
    import inspect

    return inspect.cleandoc(doc)


class RouteTable:
    """Maps (method, path) to a route; knows which methods a path allows (for 405 + Allow)."""

    def __init__(self) -> None:
        self.static: dict[str, dict[str, Route]] = {}
        # Templated paths in registration order, and the same bucketed by their
        # first path segment when it is literal ("/items/{id}" -> "items").
        self.dynamic: list[tuple[Matcher, dict[str, Route]]] = []
        self._by_segment: dict[str, list[tuple[Matcher, dict[str, Route]]]] = {}
        self._wildcard: list[tuple[Matcher, dict[str, Route]]] = []
        self._dynamic_by_path: dict[str, dict[str, Route]] = {}
        # PERF: the compiled lookup of templated paths reads the two indexes above.
        self.dynamic_routes = DynamicRoutes(self._by_segment, self._wildcard)
        self.dynamic_lookup = self.dynamic_routes.lookup

    def add(self, route: Route) -> None:
        if route.regex is None:
            table = self.static.setdefault(route.path, {})
        else:
            table = self._dynamic_by_path.get(route.path)  # type: ignore[assignment]
            if table is None:
                table = self._dynamic_by_path[route.path] = {}
                entry = (path_matcher(route.path, route.regex), table)
                self.dynamic.append(entry)
                segment = route.path[1:].split("/", 1)[0]
                if "{" in segment:
                    self._wildcard.append(entry)
                    # NOTE: a wildcard first segment can match any bucket; keep order by adding it everywhere.
                    for bucket in self._by_segment.values():
                        bucket.append(entry)
                else:
                    bucket = self._by_segment.get(segment)
                    if bucket is None:
                        bucket = self._by_segment[segment] = list(self._wildcard)
                    bucket.append(entry)
        for method in route.methods:
            if method in table:
                raise ValueError(f"route {method} {route.path} is already registered (to {table[method].name})")
            table[method] = route

    def lookup(self, path: str) -> tuple[dict[str, Route] | None, dict[str, str] | None]:
        """The method table for ``path`` and the raw path parameters (None for a static match)."""
        table = self.static.get(path)
        if table is not None:
            return table, None
        return self.dynamic_lookup(path)  # type: ignore[no-any-return]


def path_matcher(path: str, regex: re.Pattern[str]) -> Matcher:
    """The compiled matcher for a templated ``path``: by segments when each placeholder fills one, else ``regex``."""
    parts: list[str | None] = []
    names: list[str] = []
    for segment in path[1:].split("/"):
        whole = _PLACEHOLDER.fullmatch(segment)
        if whole is not None and whole.group(2) is None:
            parts.append(None)
            names.append(whole.group(1))
        elif "{" in segment or "}" in segment:
            return RegexMatcher(regex)  # a placeholder inside a segment, or {name:path}
        else:
            parts.append(segment)
    return SegmentMatcher(parts, names)


def allowed_methods(table: dict[str, Route]) -> str:
    methods = set(table)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(m for m in HTTP_METHODS if m in methods)


class RouteMethods:
    """``get``/``post``/... in call form (``app.get(path, handler)``) and as decorators, for App and Router.

    Each one calls ``self.add_route(path, handler, (METHOD,), **options)``.
    """

    def add_route(self, path: str, endpoint: Callable[..., Any], methods: Any = ("GET",), **options: Any) -> Any:
        raise NotImplementedError

    def _check_route_options(self, options: dict[str, Any], path: str) -> None:
        """Called when a decorator is made, before the handler exists (a Router checks keywords here)."""

    def _register(self, method: str, path: str, handler: Callable[..., Any] | None, options: Any) -> Any:
        if handler is not None:
            self.add_route(path, handler, (method,), **options)
            return handler
        self._check_route_options(options, path)

        def decorator(func: F) -> F:
            self.add_route(path, func, (method,), **options)
            return func

        return decorator

    def api_route(self, path: str, *, methods: Sequence[str] = ("GET",), **options: Any) -> Callable[[F], F]:
        """``@app.api_route(path, methods=["GET", "POST"])``: one handler for several methods, as in FastAPI."""
        if isinstance(methods, str):
            raise TypeError(f"methods must be a list of method names, got the string {methods!r}")
        methods = tuple(method.upper() for method in methods)
        self._check_route_options(options, path)

        def decorator(func: F) -> F:
            self.add_route(path, func, methods, **options)
            return func

        return decorator

    def get(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        """A GET handler (it answers HEAD too): call form or decorator."""
        return self._register("GET", path, handler, options)

    def post(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("POST", path, handler, options)

    def put(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("PUT", path, handler, options)

    def patch(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("PATCH", path, handler, options)

    def delete(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("DELETE", path, handler, options)

    def head(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("HEAD", path, handler, options)

    def options(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        return self._register("OPTIONS", path, handler, options)

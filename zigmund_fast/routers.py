"""``Router``: routes grouped under a prefix with shared metadata, registered on an App by ``include_router``.

A router only records what it is given. ``app.include_router(router)``
registers every recorded route through ``App.add_route``, so an included
route is built (injection plan, handler, match-table entry) exactly like one
registered on the app directly and costs nothing extra per request.

Metadata merges as in FastAPI, outermost first: the path is the including
prefixes then the router's prefix then the route's path; tags are
concatenated (not de-duplicated); dependencies run app-level, then each
``include_router(..., dependencies=)``, then each router's own, then the
route's; ``responses`` are merged with the inner entry winning for a status;
a route is deprecated if any level says so, and in the schema only if every
level allows it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from zigmund_fast.routing import RouteMethods
from zigmund_fast.websockets import WEBSOCKET_METHOD

if TYPE_CHECKING:
    from zigmund_fast.app import App
    from zigmund_fast.params import Depends

F = TypeVar("F", bound=Callable[..., Any])
Responses = Mapping[int | str, Any]

# Route options a router merges itself; every other keyword goes to App.add_route unchanged.
_MERGED = ("tags", "dependencies", "responses", "deprecated", "include_in_schema")


class RouterRoute:
    """A route recorded on a ``Router``: its path below the router and its merged metadata."""

    __slots__ = ("dependencies", "deprecated", "endpoint", "include_in_schema", "methods", "options", "path",
                 "responses", "tags")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: tuple[str, ...],
        options: dict[str, Any],
        *,
        tags: list[str],
        dependencies: list[Depends],
        responses: dict[int | str, Any],
        deprecated: bool,
        include_in_schema: bool,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.methods = methods
        self.options = options
        self.tags = tags
        self.dependencies = dependencies
        self.responses = responses
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema

    def under(
        self,
        prefix: str,
        tags: Sequence[str] | None,
        dependencies: Sequence[Depends] | None,
        responses: Responses | None,
        deprecated: bool | None,
        include_in_schema: bool,
    ) -> RouterRoute:
        """This route as seen from one level up: the outer prefix and metadata go first."""
        return RouterRoute(
            prefix + self.path, self.endpoint, self.methods, self.options,
            tags=[*(tags or ()), *self.tags],
            dependencies=[*(dependencies or ()), *self.dependencies],
            responses={**(responses or {}), **self.responses},
            deprecated=self.deprecated or bool(deprecated),
            include_in_schema=self.include_in_schema and include_in_schema,
        )

    def __repr__(self) -> str:
        name = getattr(self.endpoint, "__name__", "endpoint")
        return f"<RouterRoute {'|'.join(self.methods)} {self.path or '(empty)'} -> {name}>"


class Router(RouteMethods):
    """A group of routes: ``router.get("/{item_id}")(...)``, then ``app.include_router(router)``.

    Parameters:
        prefix: prepended to every route's path, e.g. ``"/items"``; starts with
            ``/`` and does not end with one (``""``: no prefix).
        tags: OpenAPI tags put before each route's own.
        dependencies: ``Depends(...)`` run before each route's own dependencies
            (and after the app's and the including router's); values discarded.
        responses: extra OpenAPI responses by status; a route's own entry wins.
        deprecated: marks every route deprecated.
        include_in_schema: ``False`` leaves every route out of the OpenAPI document.

    The route methods are the App's (``get``, ``post``, ``put``, ``patch``,
    ``delete``, ``head``, ``options``, ``add_route``, ``websocket``), as
    decorators or called with the handler, and take the same keywords. As in FastAPI, including a
    router copies the routes it has at that moment; a route added to it later
    is not registered.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: Responses | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
    ) -> None:
        check_prefix(prefix)
        self.prefix = prefix
        self.tags: list[str] = list(tags or ())
        self.dependencies: list[Depends] = list(dependencies or ())
        self.responses: dict[int | str, Any] = check_responses(responses, "Router") or {}
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.routes: list[RouterRoute] = []

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] = ("GET",),
        **options: Any,
    ) -> RouterRoute:
        """Record ``endpoint`` for ``methods`` on ``prefix + path``; keywords are those of ``App.add_route``."""
        if not callable(endpoint):
            raise TypeError(f"handler for {path!r} must be callable, got {endpoint!r}")
        if path and not path.startswith("/"):
            raise ValueError(f"route path must start with '/': {path!r}")
        if isinstance(methods, str):
            raise TypeError(f"methods must be a list of method names, got the string {methods!r}")
        check_route_options(options, f"route {path!r}")
        merged = {name: options.pop(name) for name in _MERGED if name in options}
        route = RouterRoute(
            path, endpoint, tuple(m.upper() for m in methods), options,
            tags=list(merged.get("tags") or ()),
            dependencies=list(merged.get("dependencies") or ()),
            responses=check_responses(merged.get("responses"), f"route {path!r}") or {},
            deprecated=bool(merged.get("deprecated")),
            include_in_schema=merged.get("include_in_schema", True),
        )
        route = route.under(self.prefix, self.tags, self.dependencies, self.responses, self.deprecated,
                            self.include_in_schema)
        self.routes.append(route)
        return route

    def _check_route_options(self, options: dict[str, Any], path: str) -> None:
        # NOTE: check the keywords now, not only when the decorator is applied.
        check_route_options(options, f"route {path!r}")

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], *, name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> RouterRoute:
        """Record a WebSocket handler (see ``App.add_websocket_route``); the router's dependencies apply."""
        if not callable(endpoint):
            raise TypeError(f"WebSocket handler for {path!r} must be callable, got {endpoint!r}")
        if path and not path.startswith("/"):
            raise ValueError(f"route path must start with '/': {path!r}")
        route = RouterRoute(path, endpoint, (WEBSOCKET_METHOD,), {"name": name} if name else {}, tags=[],
                            dependencies=list(dependencies or ()), responses={}, deprecated=False,
                            include_in_schema=False)
        route = route.under(self.prefix, self.tags, self.dependencies, self.responses, self.deprecated,
                            self.include_in_schema)
        self.routes.append(route)
        return route

    def websocket(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Record a WebSocket handler (``name=``, ``dependencies=``): call form or decorator."""
        if handler is not None:
            self.add_websocket_route(path, handler, **options)
            return handler

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, **options)
            return func

        return decorator

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: Responses | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Copy ``router``'s routes into this one, under ``prefix`` and with this level's metadata first."""
        if router is self:
            raise ValueError("a router cannot include itself")
        responses = check_responses(responses, "include_router")
        for route in routes_of(router, prefix):
            inner = route.under(prefix, tags, dependencies, responses, deprecated, include_in_schema)
            self.routes.append(inner.under(self.prefix, self.tags, self.dependencies, self.responses,
                                           self.deprecated, self.include_in_schema))

    def __repr__(self) -> str:
        return f"<Router prefix={self.prefix!r} routes={len(self.routes)}>"


def include_router(
    app: App,
    router: Router,
    *,
    prefix: str = "",
    tags: Sequence[str] | None = None,
    dependencies: Sequence[Depends] | None = None,
    responses: Responses | None = None,
    deprecated: bool | None = None,
    include_in_schema: bool = True,
) -> None:
    """Register every route of ``router`` on ``app`` (``App.include_router`` calls this)."""
    responses = check_responses(responses, "include_router")
    for route in routes_of(router, prefix):
        merged = route.under(prefix, tags, dependencies, responses, deprecated, include_in_schema)
        if not merged.path:
            name = getattr(merged.endpoint, "__name__", "endpoint")
            raise ValueError(f"prefix and path cannot be both empty (route {name!r}): give the router or "
                             f"include_router a prefix, or the route a path")
        if merged.methods == (WEBSOCKET_METHOD,):
            app.add_websocket_route(merged.path, merged.endpoint, dependencies=merged.dependencies or None,
                                    **merged.options)
            continue
        options = dict(merged.options)
        # NOTE: only non-default values are passed, so add_route's own defaults (and fast paths) apply.
        if merged.dependencies:
            options["dependencies"] = merged.dependencies
        if merged.responses:
            options["responses"] = merged.responses
        if merged.deprecated:
            options["deprecated"] = True
        if not merged.include_in_schema:
            options["include_in_schema"] = False
        app.add_route(merged.path, merged.endpoint, merged.methods, tags=merged.tags or None, **options)


def routes_of(router: Any, prefix: str) -> list[RouterRoute]:
    """The routes of ``router`` (checked to be a Router), after checking ``prefix``."""
    if not isinstance(router, Router):
        raise TypeError(f"include_router() takes a zigmund_fast Router, got {type(router).__name__}")
    check_prefix(prefix)
    return list(router.routes)


def check_prefix(prefix: str) -> None:
    if not isinstance(prefix, str):
        raise TypeError(f"a path prefix must be a string, got {type(prefix).__name__}")
    if prefix:
        if not prefix.startswith("/"):
            raise ValueError(f"a path prefix must start with '/': {prefix!r}")
        if prefix.endswith("/"):
            raise ValueError(f"a path prefix must not end with '/', as the routes start with '/': {prefix!r}")


def check_responses(responses: Responses | None, where: str) -> dict[int | str, Any] | None:
    """``responses=`` checked at registration: status codes (or ``"4XX"``, ``"default"``) to dicts."""
    if not responses:
        return None
    if not isinstance(responses, Mapping):
        raise TypeError(f"{where}: responses must be a dict of status code to response, got {responses!r}")
    for status, response in responses.items():
        valid_status = (isinstance(status, int) and 100 <= status <= 599) or (
            isinstance(status, str) and (status.upper() in _STATUS_RANGES or (status.isdigit() and len(status) == 3))
        )
        if not valid_status:
            raise ValueError(f"{where}: {status!r} in responses is not a status code, a range like '4XX', "
                             "or 'default'")
        if not isinstance(response, Mapping):
            raise TypeError(f"{where}: responses[{status!r}] must be a dict (description, model, content...), "
                            f"got {type(response).__name__}")
    return dict(responses)


_STATUS_RANGES = ("1XX", "2XX", "3XX", "4XX", "5XX", "DEFAULT")

_route_keywords: frozenset[str] | None = None


def check_route_options(options: Mapping[str, Any], where: str) -> None:
    """Raise at registration for a keyword ``App.add_route`` would reject only when the router is included."""
    global _route_keywords
    if _route_keywords is None:
        from zigmund_fast.app import App

        parameters = inspect.signature(App.add_route).parameters
        _route_keywords = frozenset(parameters) - {"self", "path", "endpoint", "methods"}
    unknown = sorted(set(options) - _route_keywords - set(_MERGED))
    if unknown:
        raise TypeError(f"{where}: unknown keyword(s) {', '.join(unknown)}; "
                        f"expected some of {', '.join(sorted(_route_keywords | set(_MERGED)))}")


# The FastAPI name, for ports that only change their imports.
APIRouter = Router

__all__ = ["APIRouter", "Router", "RouterRoute", "check_responses", "include_router"]

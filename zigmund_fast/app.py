"""The application: route registration, request dispatch, error responses, and serving."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from zigmund_fast._impl import AppDispatch, AsyncHandle, Collect, PlainFinish
from zigmund_fast.background import ErrorStrategy, check_strategy
from zigmund_fast.body_errors import validation_error
from zigmund_fast.dependencies import with_dependencies
from zigmund_fast.encoders import plain_json_encoder
from zigmund_fast.exception_handlers import check_handler_key, handler_keys
from zigmund_fast.exceptions import HTTPException, RequestValidationError
from zigmund_fast.injection import (
    binds_by_position,
    build_plan,
    compile_infallible_call,
    extract_websocket,
)
from zigmund_fast.lifespan import EventHandler, Lifespan, LifespanFactory
from zigmund_fast.metrics import Metrics
from zigmund_fast.observability import Observer
from zigmund_fast.openapi.metadata import check_app_metadata
from zigmund_fast.params import Depends
from zigmund_fast.requests import Request, State
from zigmund_fast.response_fields import check_filtered_model, field_names
from zigmund_fast.response_plan import (
    FROM_ANNOTATION,
    check_response_class,
    default_status,
    resolve_response_model,
    shape_finish,
)
from zigmund_fast.responses import Response, raw_response
from zigmund_fast.routers import check_responses
from zigmund_fast.routing import (
    Route,
    RouteMethods,
    RouteTable,
    compile_path,
)
from zigmund_fast.unmatched import method_not_allowed, not_found
from zigmund_fast.websockets import (
    WEBSOCKET_METHOD,
    check_websocket_plan,
    route_websocket,
    websocket_handle,
)

logger = logging.getLogger("zigmund_fast.app")

F = TypeVar("F", bound=Callable[..., Any])
ExceptionHandler = Callable[[Request, Any], Response]

_SERVER_ERROR_BODY = b'{"detail":"Internal Server Error"}'


class App(RouteMethods):
    """A zigmund_fast application.

    Parameters:
        title, version, description: shown in the OpenAPI document.
        summary, terms_of_service, contact, license_info: the rest of the OpenAPI ``info``
            (``contact={"name", "url", "email"}``, ``license_info={"name", "url" or "identifier"}``).
        openapi_tags: tag metadata, the document's top-level ``tags``
            (``[{"name": ..., "description": ..., "externalDocs": {...}}]``), in the order shown.
        background_errors: ``"continue"`` (default) runs a request's remaining
            tasks after one fails; ``"stop"`` skips them (both are logged); or a
            callable ``(TaskInfo, exc) -> "continue" | "stop"``. Routes may override it.
        shutdown_timeout: seconds a graceful shutdown may spend finishing
            requests and queued background tasks.
        openapi_url, docs_url, redoc_url: where the OpenAPI JSON, Swagger UI and ReDoc are
            served; ``None`` disables either.
        threadpool_size: threads for plain ``def`` handlers.
        max_pending_tasks: queued background tasks (per worker) past which the
            server stops reading new requests until half of them have run;
            nothing is dropped and no request is refused for it. 0 disables.
        request_ids: give every request an id (a well-formed ``X-Request-ID``
            is kept, otherwise one is generated), echo it in the response's
            ``x-request-id`` and carry it on every event. ``None`` (default):
            on as soon as a sink is attached.
        eager_handlers: run an ``async def`` handler's first step directly in the
            protocol callback (fast; the handler moves into an asyncio Task only
            if it suspends). ``False`` starts every handler inside a Task, for
            code that needs ``asyncio.current_task()`` before its first await
            (``asyncio.timeout``, TaskGroups). Routes may override it with ``eager=``.
        metrics_path: serve Prometheus metrics there (e.g. ``"/metrics"``);
            off by default. Summed across workers with ``--workers N``.
        dependencies: ``Depends(...)`` run before every route registered after
            this (not the docs and metrics routes); their values are discarded.
        lifespan: ``@asynccontextmanager`` function called with the app around
            serving, once per worker; a mapping it yields seeds every
            ``request.state``. on_startup, on_shutdown: callables run then too
            (see ``zigmund_fast.lifespan``).
        middleware: ``Middleware(cls, **options)`` records; the first runs outermost.
        redirect_slashes: answer a path no route matches with 307 to the same path
            with(out) its trailing slash when a route matches that (see ``zigmund_fast.unmatched``).
    """

    def __init__(
        self,
        title: str = "zigmund_fast",
        version: str = "0.1.0",
        *,
        description: str | None = None,
        summary: str | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        background_errors: ErrorStrategy = "continue",
        shutdown_timeout: float = 30.0,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        threadpool_size: int = 40,
        max_pending_tasks: int = 100_000,
        request_ids: bool | None = None,
        metrics_path: str | None = None,
        eager_handlers: bool = True,
        dependencies: Sequence[Depends] | None = None,
        lifespan: LifespanFactory | None = None,
        on_startup: Sequence[EventHandler] | None = None,
        on_shutdown: Sequence[EventHandler] | None = None,
        middleware: Sequence[Any] | None = None,
        redirect_slashes: bool = True,
    ) -> None:
        check_strategy(background_errors)
        check_app_metadata(summary=summary, terms_of_service=terms_of_service, contact=contact,
                           license_info=license_info, openapi_tags=openapi_tags)
        if max_pending_tasks < 0:
            raise ValueError("max_pending_tasks must be >= 0")
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must be >= 0")
        self.title = title
        self.version = version
        self.description = description
        self.summary = summary
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_tags = openapi_tags
        self.background_errors: ErrorStrategy = background_errors
        self.shutdown_timeout = shutdown_timeout
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.threadpool_size = threadpool_size
        self.max_pending_tasks = max_pending_tasks
        self.eager_handlers = eager_handlers
        self.request_ids = request_ids
        self.redirect_slashes = redirect_slashes
        # Set by `zigmund serve --root-path` (or by hand): the prefix a proxy serves the app under.
        self.root_path = ""
        # Set once a route declares max_body_size; only then does the protocol ask body_limit_for.
        self.has_body_limits = False
        self.observer = Observer()
        self.routes: list[Route] = []
        self._middleware: list[Callable[..., Any]] = []
        # Exception classes, and status codes (for HTTPExceptions with that status), to handlers.
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = {}
        self._table = RouteTable()
        self._static = self._table.static
        self._dispatch = AppDispatch(self, self._static, self._table.dynamic_routes, self.observer, not_found,
                                     method_not_allowed)
        self._observing = bool(request_ids)
        if type(self).dispatch is App.dispatch:
            # PERF: the protocol calls the compiled dispatcher itself (middleware replaces this again).
            self.dispatch = self._dispatch  # type: ignore[method-assign]
        # WebSocket routes: a table of their own, looked up only for upgrade requests.
        self.websocket_routes: list[Route] = []
        self._websocket_table = RouteTable()
        self._executor: ThreadPoolExecutor | None = None
        self._openapi_cache: bytes | None = None
        # dependency -> replacement, read by routes with dependencies on every request (for tests).
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.dependencies: list[Depends] = []
        self._add_docs_routes()
        self.metrics: Metrics | None = None
        if metrics_path is not None:
            self._add_metrics_route(metrics_path)
        self.dependencies = list(dependencies or ())
        self.lifespan = Lifespan(self, lifespan, on_startup, on_shutdown)
        # Free-form app-wide state (`app.state.db = ...`); the lifespan's yielded state goes to requests.
        self.state = State()
        if middleware:
            from zigmund_fast.middleware import install_middleware

            install_middleware(self, middleware)

    # Registration

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: list[str] | tuple[str, ...] = ("GET",),
        *,
        summary: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        status_code: int | None = None,
        include_in_schema: bool = True,
        operation_id: str | None = None,
        deprecated: bool = False,
        name: str | None = None,
        background_errors: ErrorStrategy | None = None,
        eager: bool | None = None,
        dependencies: Sequence[Depends] | None = None,
        response_model: Any = FROM_ANNOTATION,
        response_model_exclude_unset: bool = False,
        response_model_exclude_none: bool = False,
        response_model_include: set[str] | None = None,
        response_model_exclude: set[str] | None = None,
        response_description: str = "Successful Response",
        response_class: type[Response] | None = None,
        responses: dict[int | str, Any] | None = None,
        max_body_size: int | None = None,
    ) -> Route:
        """Register ``endpoint`` for ``methods`` on ``path``; its injection plan is built here, once.

        ``response_model`` (by default the return annotation, when it names a
        model; ``None`` turns that off) filters what the handler returns to the
        model's fields (``response_model_include`` / ``_exclude``: sets of field names
        to keep / leave out); ``response_description`` describes the success response
        in OpenAPI; ``response_class`` wraps values that are not already a
        ``Response`` (``HTMLResponse``, ``EventSourceResponse`` for a generator...).
        ``responses={404: {"model": Message, "description": ...}}`` adds OpenAPI responses.
        ``max_body_size`` (bytes) replaces the server's body limit for this route: a
        larger declared body gets 413 before it is read.
        """
        if max_body_size is not None and (not isinstance(max_body_size, int) or max_body_size < 0):
            raise ValueError(f"max_body_size of route {path!r} must be a number of bytes >= 0, got {max_body_size!r}")
        if background_errors is not None:
            check_strategy(background_errors)
        if not callable(endpoint):
            raise TypeError(f"handler for {path!r} must be callable, got {endpoint!r}")
        check_response_class(response_class, f"route {path!r}")
        if not isinstance(response_description, str):
            raise TypeError(f"route {path!r}: response_description must be a string, got {response_description!r}")
        include = field_names(response_model_include, "response_model_include", f"route {path!r}")
        exclude = field_names(response_model_exclude, "response_model_exclude", f"route {path!r}")
        response_model = resolve_response_model(endpoint, response_model)
        if include is not None or exclude is not None:
            check_filtered_model(response_model, f"route {path!r}")
        status_code_given = status_code
        if status_code is None and response_class is not None:
            status_code = default_status(response_class)
        upper = tuple(m.upper() for m in methods)
        _, path_param_names = compile_path(path)
        plan = build_plan(endpoint, path_param_names)
        if any(extract is extract_websocket for _, extract in plan.extractors):
            raise TypeError(f"handler for {path!r} takes a WebSocket: register it with app.websocket(...)")
        # NOTE: a route without dependencies keeps its plan (and its fast path) as is.
        plan = with_dependencies(plan, endpoint, [*self.dependencies, *(dependencies or ())], path_param_names)
        route = Route(
            path, upper, endpoint, plan, summary=summary, description=description, tags=tags,
            status_code=status_code, include_in_schema=include_in_schema, operation_id=operation_id,
            deprecated=deprecated, name=name, options={
                "background_errors": background_errors, "eager": eager,
                "response_model": response_model,
                "response_model_exclude_unset": response_model_exclude_unset,
                "response_model_exclude_none": response_model_exclude_none,
                "response_model_include": include, "response_model_exclude": exclude,
                "response_description": response_description,
                "response_class": response_class, "status_code_given": status_code_given,
                "responses": check_responses(responses, f"route {path!r}"),
                "max_body_size": max_body_size,
            },
        )
        if max_body_size is not None:
            self.has_body_limits = True
        route.handle = self._build_handle(route)
        self._table.add(route)
        self.routes.append(route)
        self._openapi_cache = None
        return route

    def body_limit_for(self, method: str, path: str) -> int | None:
        """The ``max_body_size`` of the route ``method path`` would reach, if it has one (for the protocol)."""
        table = self._static.get(path)
        if table is None:
            table, _ = self._table.lookup(path)
        route = table.get(method) if table is not None else None
        return route.options.get("max_body_size") if route is not None else None

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> Route:
        """Register ``async def endpoint(websocket: WebSocket, ...)`` for WebSocket upgrades to ``path``.

        Path, query, header and cookie parameters and dependencies are injected as for
        HTTP routes (a value that does not convert refuses the upgrade with 403).
        """
        if not callable(endpoint):
            raise TypeError(f"WebSocket handler for {path!r} must be callable, got {endpoint!r}")
        _, path_param_names = compile_path(path)
        plan = build_plan(endpoint, path_param_names)
        plan = with_dependencies(plan, endpoint, [*self.dependencies, *(dependencies or ())], path_param_names)
        route = Route(path, (WEBSOCKET_METHOD,), endpoint, plan, include_in_schema=False, name=name)
        check_websocket_plan(plan, route.name)
        route.handle = websocket_handle(route, self)
        self._websocket_table.add(route)
        self.websocket_routes.append(route)
        return route

    def websocket(self, path: str, handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Register a WebSocket handler (``name=``, ``dependencies=``): call form or decorator."""
        if handler is not None:
            self.add_websocket_route(path, handler, **options)
            return handler

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, **options)
            return func

        return decorator

    def include_router(self, router: Any, **options: Any) -> None:
        """Register every route of a ``Router``; keywords: ``prefix``, ``tags``, ``dependencies``,
        ``responses``, ``deprecated``, ``include_in_schema`` (merged as in ``zigmund_fast.routers``)."""
        from zigmund_fast.routers import include_router

        include_router(self, router, **options)

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serve requests under ``path`` with ``app``: another App, ``StaticFiles``, or any object with
        ``handle_mounted(request)`` (see ``zigmund_fast.mounts``). Routes of this app win over mounts."""
        from zigmund_fast.mounts import Mounts

        if self._mounts is None:
            self._mounts = Mounts(self)
        self._mounts.add(path, app, name)

    def add_middleware(self, middleware_class: Callable[..., Any], *args: Any, **options: Any) -> None:
        """Add ``middleware_class(*args, **options)`` (called as ``await mw(request, call_next)``), outermost."""
        from zigmund_fast.middleware import build_middleware

        self.middleware("http")(build_middleware(middleware_class, args, options))  # type: ignore[arg-type]

    def on_event(self, event_type: str) -> Callable[[F], F]:
        """``@app.on_event("startup")`` / ``("shutdown")``: run the function then (``def`` or ``async def``)."""
        return self.lifespan.on_event(event_type)

    def add_event_handler(self, event_type: str, func: EventHandler) -> None:
        self.lifespan.add_event_handler(event_type, func)

    def add_sink(self, sink: Any) -> None:
        """Send every observability event to ``sink`` (a callable, or an object with ``emit(event)``)."""
        self.observer.add(sink)
        self._observing = self.observing

    @property
    def observing(self) -> bool:
        """Whether requests get ids and events (decided when a server or TestClient starts)."""
        return self.request_ids if self.request_ids is not None else self.observer.enabled

    def exception_handler(
        self, exc_class: type[BaseException] | int, handler: ExceptionHandler | None = None,
    ) -> Any:
        """Register ``handler(request, exc) -> Response`` for ``exc_class``: call form or decorator.

        ``exc_class`` may be a status code: the handler then takes ``HTTPException``s with that
        status (before any class handler), including the 404 and 405 of unmatched requests;
        ``500`` takes errors no class handler took.
        """
        check_handler_key(exc_class)
        if handler is not None:
            self.exception_handlers[exc_class] = handler
            return handler

        def decorator(func: ExceptionHandler) -> ExceptionHandler:
            self.exception_handlers[exc_class] = func
            return func

        return decorator

    # Request path

    def dispatch(self, request: Request) -> Response | asyncio.Future[Response]:
        """Called by the protocol once per request: a Response, or a Future of one.

        The work is done by the compiled ``AppDispatch`` (routematch.pyx), which
        the protocol calls directly unless middleware or a subclass sits in front.
        """
        return self._dispatch(request)  # type: ignore[no-any-return]

    @property
    def _observing(self) -> bool:
        """Whether requests get ids and events (a sink is attached, or ``request_ids=True``)."""
        return self._dispatch.observing  # type: ignore[no-any-return]

    @_observing.setter
    def _observing(self, value: bool) -> None:
        self._dispatch.observing = value

    @property
    def _mounts(self) -> Any:
        """The app's ``zigmund_fast.mounts.Mounts`` once something is mounted, else None."""
        return self._dispatch.mounts

    @_mounts.setter
    def _mounts(self, value: Any) -> None:
        self._dispatch.mounts = value

    def route_not_found(self, request: Request) -> Response | asyncio.Future[Response]:
        """Called for a request no route and no mount matched: a trailing-slash redirect or a 404."""
        return not_found(self, request)

    def dispatch_websocket(self, request: Request) -> Response | Route:
        """Called by the server for a WebSocket upgrade request: its route, or the Response refusing it."""
        if self._observing:
            self.observer.start_request(request)
        return route_websocket(self._websocket_table, request)  # type: ignore[no-any-return]

    def middleware(self, kind: str = "http") -> Callable[[F], F]:
        """Register ``async def mw(request, call_next) -> Response``; the last one added runs outermost.

        ``await call_next(request)`` runs the rest of the chain and the handler. The
        request's background tasks stay attached to the request, so the protocol
        still runs them once, in order, after the final response was written,
        whatever the middleware does.
        """
        if kind != "http":
            raise ValueError(f"only 'http' middleware is supported, got {kind!r}")

        def decorator(func: F) -> F:
            if not callable(func):
                raise TypeError(f"middleware must be callable, got {func!r}")
            self._middleware.insert(0, func)
            # NOTE: without middleware, dispatch stays the plain method (no per-request check).
            self.dispatch = self._dispatch_through_middleware  # type: ignore[method-assign]
            return func

        return decorator

    def _dispatch_through_middleware(self, request: Request) -> Response | asyncio.Future[Response]:
        coro = self._call_middleware(0, request)
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return self._checked_response(request, stop.value)
        except BaseException as exc:
            return self.error_response(request, exc)
        return asyncio.get_running_loop().create_task(
            _resume(coro, yielded, request, self._checked_response, self.error_response)
        )

    def _checked_response(self, request: Request, value: Any) -> Response:
        if isinstance(value, Response):
            return value
        return self.error_response(request, TypeError(f"middleware must return a Response, got {type(value).__name__}"))

    async def _call_middleware(self, index: int, request: Request) -> Response:
        if index == len(self._middleware):
            result = App.dispatch(self, request)
            if isinstance(result, asyncio.Future):
                return await result
            return result
        return await self._middleware[index](request, functools.partial(self._call_middleware, index + 1))

    def stamp_response(self, request: Request, response: Response) -> None:
        """Called by the protocol, while observing, before a response with headers of its own is encoded.

        (For a response without headers the protocol writes the id line itself.)
        """
        if request.request_id is not None:
            response.headers["x-request-id"] = request.request_id
        request.status = response.status_code
        request.response_size = len(response.body)

    def responses_written(self, requests: list[Request]) -> None:
        """Called by the protocol, while observing, once these requests' responses were written."""
        if self.observer.enabled:
            self.observer.requests_written(requests)

    def _build_handle(self, route: Route) -> Callable[[Request], Any]:
        endpoint = route.endpoint
        extractors = route.plan.extractors
        status_code = route.status_code
        on_error = self.error_response
        route_path = route.path
        route_strategy = route.options.get("background_errors")
        eager = route.options.get("eager")
        if eager is None:
            eager = self.eager_handlers

        # Routes whose signature mentions dates or durations write them as FastAPI does (encoders.py).
        json_encode = plain_json_encoder(endpoint, [spec.annotation for spec in route.plan.params])

        def to_response(value: Any) -> Response:
            if isinstance(value, Response):
                return value
            # NOTE: a str is JSON too ("hello" -> "\"hello\""), as in FastAPI; Response.text() sends text.
            return raw_response(json_encode(value), status_code, "application/json")

        # PERF: the compiled finish (value -> JSON Response, tasks labelled with the route); see handlers.pyx.
        finish: Callable[[Request, Any], Response] = PlainFinish(
            json_encode, status_code, on_error, route_path, route_strategy, Response)

        # response_model / response_class / a `response: Response` parameter / a generator handler:
        # a converter chosen here runs before `finish`; routes without any keep `finish` itself.
        finish = shape_finish(route, finish, on_error, to_response)

        infallible_call = compile_infallible_call(endpoint, extractors)
        is_async = route.plan.is_async
        graph = route.plan.graph
        if graph is not None:
            # Depends: one coroutine resolves the dependencies, then calls the handler (a `def` one in
            # the thread pool); it is driven like an async handler. Routes without Depends never get here.
            infallible_call = graph.entry(self)
            finish = graph.guard_finish(finish, route_path)
            is_async = True

        # PERF: compiled (extract.pyx): the arguments, or the error to answer with. An async handler whose
        # signature binds them by position gets a tuple; the thread-pool path always takes keywords.
        positional = is_async and bool(extractors) and binds_by_position(endpoint, [name for name, _ in extractors])
        collect = Collect(extractors, HTTPException, validation_error, positional)

        if is_async:
            # PERF: the compiled driver; with `eager` it runs the coroutine's first step itself, and most
            # handlers finish there without an asyncio Task (handlers.pyx).
            return AsyncHandle(infallible_call, collect, endpoint, bool(extractors), eager, finish,  # type: ignore[no-any-return]
                               on_error, _resume, _run_in_task, route.name)

        def handle(request: Request) -> Any:
            kwargs = collect(request) if extractors else {}
            if type(kwargs) is not dict:
                return on_error(request, kwargs)  # type: ignore[arg-type]
            return self._run_in_threadpool(endpoint, kwargs, request, finish, on_error)  # type: ignore[arg-type]

        return handle

    def _handler_executor(self) -> ThreadPoolExecutor:
        """The thread pool for ``def`` handlers and dependencies, started on first use."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threadpool_size, thread_name_prefix="zigmund-handler")
        return self._executor

    def _run_in_threadpool(
        self,
        endpoint: Callable[..., Any],
        kwargs: dict[str, Any],
        request: Request,
        finish: Callable[[Request, Any], Response],
        on_error: Callable[[Request, BaseException], Response],
    ) -> asyncio.Future[Response]:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threadpool_size, thread_name_prefix="zigmund-handler")
        call = functools.partial(contextvars.copy_context().run, functools.partial(endpoint, **kwargs))
        result: asyncio.Future[Response] = loop.create_future()

        def done(future: asyncio.Future[Any]) -> None:
            if result.cancelled():
                return
            exc = future.exception()
            result.set_result(on_error(request, exc) if exc is not None else finish(request, future.result()))

        loop.run_in_executor(self._executor, call).add_done_callback(done)
        return result

    def error_response(self, request: Request, exc: BaseException) -> Response:
        """The response for an exception raised while handling ``request``; its queued tasks are dropped."""
        if request.background:
            names = request.background.names()
            logger.debug(
                "handler for %s %s raised %s; discarding %d background task(s): %s",
                request.method, request.path, type(exc).__name__, len(names), ", ".join(names),
            )
            if self.observer.enabled:
                route = request.route.path if request.route is not None else None
                self.observer.emit("tasks.discarded", request.request_id, route=route, count=len(names), tasks=names)
        background = request.background
        if background is not None and background._when_done:
            # NOTE: the tasks are dropped, but cleanups (yield dependencies, uploaded
            # files) registered with call_when_done still run, in an emptied batch.
            background._items = []
        else:
            request.background = None
        handlers = self.exception_handlers
        for key in handler_keys(exc) if handlers else ():
            handler = handlers.get(key)
            if handler is not None:
                try:
                    result = handler(request, exc)
                    if inspect.iscoroutine(result):
                        # An async handler: run it here; most finish without suspending.
                        try:
                            yielded = result.send(None)
                        except StopIteration as stop:
                            return stop.value  # type: ignore[no-any-return]
                        return asyncio.get_running_loop().create_task(  # type: ignore[return-value]
                            _finish_handler(result, yielded))
                    return result
                except Exception:
                    logger.exception("exception handler for %s failed", getattr(key, "__name__", key))
                    return Response(_SERVER_ERROR_BODY, 500, None, "application/json")
        if isinstance(exc, HTTPException):
            return Response.json({"detail": exc.detail}, exc.status_code, exc.headers)
        if isinstance(exc, RequestValidationError):
            return Response.json({"detail": exc.errors()}, 422)
        logger.error("unhandled exception in %s %s", request.method, request.path, exc_info=exc)
        return Response(_SERVER_ERROR_BODY, 500, None, "application/json")

    def _add_metrics_route(self, path: str) -> None:
        self.metrics = metrics = Metrics()
        self.add_sink(metrics)

        async def prometheus_metrics() -> Response:
            return Response(metrics.collect(), 200, None, "text/plain; version=0.0.4; charset=utf-8")

        self.add_route(path, prometheus_metrics, include_in_schema=False)

    # OpenAPI and docs

    def openapi(self) -> dict[str, Any]:
        from zigmund_fast.openapi import build_openapi

        document = build_openapi(title=self.title, version=self.version, routes=self.routes,
                                 description=self.description, summary=self.summary,
                                 terms_of_service=self.terms_of_service, contact=self.contact,
                                 license_info=self.license_info, tags=self.openapi_tags)
        if self.root_path:
            document["servers"] = [{"url": self.root_path}]
        return document

    def _add_docs_routes(self) -> None:
        from zigmund_fast.openapi.routes import add_docs_routes

        add_docs_routes(self)

    # Serving

    def serve(self, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **config: Any) -> int:
        """Serve until SIGTERM/SIGINT, then shut down gracefully; returns the exit code (0)."""
        from zigmund_fast.server.config import Config
        from zigmund_fast.server.supervisor import run

        return run(Config(app=self, host=host, port=port, workers=workers, **config))


async def _finish_handler(coro: Any, yielded: Any) -> Response:
    """The rest of an async exception handler that suspended on its first step."""
    try:
        return await _resume(coro, yielded, None, lambda _request, value: value, _handler_failed)  # type: ignore[arg-type]
    except Exception:
        logger.exception("exception handler failed")
        return Response(_SERVER_ERROR_BODY, 500, None, "application/json")


def _handler_failed(request: Any, exc: BaseException) -> Response:
    logger.error("exception handler failed", exc_info=exc)
    return Response(_SERVER_ERROR_BODY, 500, None, "application/json")


async def _run_in_task(
    coro: Any,
    request: Request,
    finish: Callable[[Request, Any], Response],
    on_error: Callable[[Request, BaseException], Response],
) -> Response:
    """Run a non-eager handler from its first step inside an asyncio Task."""
    try:
        value = await coro
    except BaseException as exc:
        return on_error(request, exc)
    return finish(request, value)


async def _resume(
    coro: Any,
    yielded: Any,
    request: Request,
    finish: Callable[[Request, Any], Response],
    on_error: Callable[[Request, BaseException], Response],
) -> Response:
    """Carry on, inside an asyncio Task, a handler coroutine that suspended on its first step."""
    try:
        while True:
            if yielded is None:
                await asyncio.sleep(0)
            elif getattr(yielded, "_asyncio_future_blocking", None) is not None:
                # NOTE: as asyncio.Task does; the coroutine set the flag when it yielded.
                yielded._asyncio_future_blocking = False
                try:
                    await yielded
                except BaseException:  # noqa: S110 - the coroutine reads the outcome itself
                    pass
            else:
                yielded = coro.throw(RuntimeError(f"handler yielded {yielded!r}, which is not awaitable"))
                continue
            yielded = coro.send(None)
    except StopIteration as stop:
        return finish(request, stop.value)
    except BaseException as exc:
        return on_error(request, exc)

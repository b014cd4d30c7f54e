"""Dependencies: a route's ``Depends`` tree, flattened at registration into steps a request runs in order.

``DependencyGraph`` walks the tree once (every callable's ``InjectionPlan`` is
built here, with the route's path parameters) and orders it so each
dependency comes after the ones it needs. A dependency used twice with
``use_cache=True`` (the default) is one step, so it runs once per request.
The last step is the handler. A request only runs the steps:

- each step's parameters are extracted like a handler's, and the errors of
  every step are reported together in one 422; a step whose own input (or
  whose sub-dependency) failed is not called, the others are (as in FastAPI);
- ``async def`` dependencies are awaited, plain ``def`` ones (classes too) run
  in the handler thread pool, as in FastAPI;
- a generator (``yield``) dependency is entered and its exit is kept. If the
  handler (or a dependency, or validation) raises, the exits run at once,
  last-entered first, with the exception thrown in at the ``yield``, and the
  exception that comes out of them is the one answered. Otherwise
  ``scope="function"`` exits run right after the handler returns, and the
  others (``scope="request"``, the default) once the response was written and
  the request's background tasks finished (``BackgroundTasks.call_when_done``).

``app.dependency_overrides`` is read per request but costs one truthiness test
while it is empty; when it is not, the steps are rebuilt with the overrides
applied, once per change of its contents (meant for tests).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from zigmund_fast.body_errors import validation_error
from zigmund_fast.injection import (
    Extractor,
    InjectionPlan,
    ParamSpec,
    _extract_tasks,
    build_plan,
)
from zigmund_fast.params import Depends, Security, SecurityScopes
from zigmund_fast.requests import Request
from zigmund_fast.security import SecurityBase

logger = logging.getLogger("zigmund_fast.dependencies")

RunSync = Callable[..., "asyncio.Future[Any]"]

# Step kinds
_ASYNC = 0  # async def: awaited
_SYNC = 1  # def or class: called in the thread pool
_ASYNC_GEN = 2  # async generator: entered with __anext__, exit kept
_GEN = 3  # generator: entered in the thread pool, exit kept
_DIRECT = 4  # a (async) generator handler: called on the loop, its stream is iterated by the response

_LOCATION_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3, "body": 4}
_FAILED: Any = object()  # a step whose inputs did not validate (its errors are already recorded)

_NOT_RERAISED = (
    "a dependency with yield caught {exc!r} and did not raise it again, so there is no response to send; "
    "re-raise it (or raise another exception) in its except block"
)


def _kind(call: Any) -> int:
    method = None if inspect.isfunction(call) or inspect.isclass(call) else getattr(call, "__call__", None)  # noqa: B004
    for candidate in (call, method):
        if candidate is None:
            continue
        if inspect.isasyncgenfunction(candidate):
            return _ASYNC_GEN
        if inspect.isgeneratorfunction(candidate):
            return _GEN
        if inspect.iscoroutinefunction(candidate):
            return _ASYNC
    return _SYNC


def _name(call: Any) -> str:
    return getattr(call, "__qualname__", None) or type(call).__qualname__


class _Step:
    """One callable to run for a request: a dependency, or (last) the handler."""

    __slots__ = (
        "call",
        "exit_scope",
        "extractors",
        "key",
        "kind",
        "name",
        "plan",
        "scopes",
        "scopes_params",
        "subs",
    )

    def __init__(self, call: Any, kind: int, plan: InjectionPlan, subs: tuple[tuple[str | None, int], ...],
                 scopes: tuple[str, ...], exit_scope: str | None, key: Any) -> None:
        self.call = call
        self.kind = kind
        self.plan = plan
        self.extractors: tuple[tuple[str, Extractor], ...] = plan.extractors
        self.scopes_params = plan.security_scopes_params
        # (parameter name or None for a route-level dependency, index of the step giving its value)
        self.subs = subs
        self.scopes = scopes
        self.exit_scope = exit_scope  # "function" | "request" for generators, else None
        self.key = key
        self.name = _name(call)


class _Builder:
    """Flattens one route's tree (with a given set of overrides) into steps."""

    def __init__(self, path_params: set[str], overrides: Mapping[Any, Any], embed_body: bool) -> None:
        self.path_params = path_params
        self.overrides = overrides
        self.embed_body = embed_body
        self.steps: list[_Step] = []
        self.by_key: dict[Any, int] = {}
        self._plans: dict[int, tuple[Any, InjectionPlan]] = {}
        self._uses_scopes: dict[int, bool] = {}
        self._active: list[Any] = []

    def plan_of(self, call: Any) -> InjectionPlan:
        known = self._plans.get(id(call))
        if known is None:
            plan = build_plan(call, self.path_params, embed_body=self.embed_body)
            self._plans[id(call)] = known = (call, plan)
        return known[1]

    def resolve(self, depends: Depends) -> Any:
        original = depends.dependency
        if self.overrides:
            return self.overrides.get(original, original)
        return original

    def uses_scopes(self, call: Any) -> bool:
        """Whether ``call`` or anything below it reads the Security scopes (then they are part of its cache key)."""
        known = self._uses_scopes.get(id(call))
        if known is not None:
            return known
        self._uses_scopes[id(call)] = False  # a cycle is reported by add(); don't recurse forever here
        plan = self.plan_of(call)
        result = bool(plan.security_scopes_params) or isinstance(call, SecurityBase) or any(
            bool(sub.scopes) or self.uses_scopes(self.resolve(sub)) for _, sub in plan.depends
        )
        self._uses_scopes[id(call)] = result
        return result

    def add(self, depends: Depends, parent_scopes: tuple[str, ...]) -> int:
        """The index of the step giving ``depends``'s value, adding it (after its own dependencies) if needed."""
        original = depends.dependency
        call = self.resolve(depends)
        kind = _kind(call)
        scopes = parent_scopes + tuple(s for s in depends.scopes if s not in parent_scopes)
        computed_scope = depends.scope or ("request" if kind in (_ASYNC_GEN, _GEN) else None)
        scope_key = tuple(sorted(set(scopes))) if depends.scopes or self.uses_scopes(call) else ()
        key = (original, scope_key, computed_scope or "")
        if depends.use_cache and key in self.by_key:
            return self.by_key[key]
        if any(active is call for active in self._active):
            cycle = " -> ".join(_name(c) for c in (*self._active, call))
            raise TypeError(f"dependency cycle: {cycle}")
        plan = self.plan_of(call)
        self._active.append(call)
        subs = []
        for name, sub in plan.depends:
            if computed_scope == "request" and sub.scope == "function":
                raise TypeError(
                    f'the dependency "{_name(call)}" has a scope of "request", it cannot depend on '
                    f'"{_name(sub.dependency)}", which has a scope of "function"'
                )
            subs.append((name, self.add(sub, scopes)))
        self._active.pop()
        exit_scope = (depends.scope or "request") if kind in (_ASYNC_GEN, _GEN) else None
        self.steps.append(_Step(call, kind, plan, tuple(subs), scopes, exit_scope, key))
        index = len(self.steps) - 1
        self.by_key.setdefault(key, index)
        return index

    def add_handler(self, endpoint: Callable[..., Any], route_dependencies: tuple[Depends, ...]) -> None:
        plan = self.plan_of(endpoint)
        subs: list[tuple[str | None, int]] = [(None, self.add(dep, ())) for dep in route_dependencies]
        subs.extend((name, self.add(dep, ())) for name, dep in plan.depends)
        kind = _kind(endpoint)
        if kind in (_ASYNC_GEN, _GEN):
            kind = _DIRECT
        self.steps.append(_Step(endpoint, kind, plan, tuple(subs), (), None, None))


class DependencyGraph:
    """A route's dependencies, resolved at registration; ``entry(app)`` gives the per-request coroutine function.

    Parameters:
        endpoint: the handler.
        route_dependencies: ``Depends`` whose values are not passed to the handler
            (app-, router- and route-level ``dependencies=[...]``), run first, in order.
        path_params: the route's path parameter names.
    """

    def __init__(self, endpoint: Callable[..., Any], route_dependencies: Iterable[Depends],
                 path_params: set[str]) -> None:
        unique: list[Depends] = []
        for dep in route_dependencies:
            if not isinstance(dep, Depends):
                raise TypeError(f"dependencies=[...] takes Depends(...) items, got {dep!r}")
            if dep.dependency is None:
                raise TypeError("Depends() in dependencies=[...] needs a callable")
            if not any(dep is seen for seen in unique):  # the same marker passed twice (app and router) runs once
                unique.append(dep)
        self.endpoint = endpoint
        self.route_dependencies = tuple(unique)
        self.path_params = set(path_params)
        self._embed_body = False
        self.steps = self._build({})
        if self._body_names(self.steps) > 1:
            # NOTE: as in FastAPI, body parameters spread over several callables are keys of one JSON object.
            self._embed_body = True
            self.steps = self._build({})
        self._override_items: tuple[tuple[Any, Any], ...] = ()
        self._override_steps: list[_Step] | None = None

    def _build(self, overrides: Mapping[Any, Any]) -> list[_Step]:
        builder = _Builder(self.path_params, overrides, self._embed_body)
        builder.add_handler(self.endpoint, self.route_dependencies)
        return builder.steps

    @staticmethod
    def _body_names(steps: list[_Step]) -> int:
        return len({spec.alias for step in steps for spec in step.plan.params if spec.location == "body"})

    def steps_for(self, overrides: Mapping[Any, Any]) -> list[_Step]:
        """The steps with ``overrides`` applied, rebuilt only when the overrides changed since the last call."""
        items = tuple(overrides.items())
        cached = self._override_steps
        if cached is None or len(items) != len(self._override_items) or any(
            a is not c or b is not d for (a, b), (c, d) in zip(items, self._override_items, strict=True)
        ):
            cached = self._override_steps = self._build(overrides)
            self._override_items = items
        return cached

    # Registration-time views

    def _preorder(self) -> list[_Step]:
        """Handler first, then each dependency before its own (FastAPI's order for parameters and security)."""
        order: list[_Step] = []
        seen: set[int] = set()

        def visit(index: int) -> None:
            if index in seen:
                return
            seen.add(index)
            order.append(self.steps[index])
            for _, sub in self.steps[index].subs:
                visit(sub)

        visit(len(self.steps) - 1)
        return order

    def params(self) -> tuple[ParamSpec, ...]:
        """Every parameter the route reads, for OpenAPI; path placeholders no callable takes are left to the schema."""
        specs: list[ParamSpec] = []
        for step in self._preorder():
            taken = {name for name, _ in step.extractors}
            specs.extend(spec for spec in step.plan.params if spec.location != "path" or spec.name in taken)
        # NOTE: grouped by location, in FastAPI's order (path, query, header, cookie, then the body).
        return tuple(sorted(specs, key=lambda spec: _LOCATION_ORDER.get(spec.location, len(_LOCATION_ORDER))))

    def security(self) -> tuple[tuple[SecurityBase, tuple[str, ...]], ...]:
        found: list[tuple[SecurityBase, tuple[str, ...]]] = []
        for step in self._preorder():
            if isinstance(step.call, SecurityBase) and not any(
                scheme.scheme_name == step.call.scheme_name and scopes == step.scopes for scheme, scopes in found
            ):
                found.append((step.call, step.scopes))
        return tuple(found)

    def route_plan(self) -> InjectionPlan:
        """The handler's plan as the route sees it: all parameters, this graph, the security requirements."""
        uses_response = any(getattr(step.plan, "uses_response", False) for step in self.steps)
        return dataclasses.replace(self.steps[-1].plan, params=self.params(), graph=self, security=self.security(),
                                   uses_response=uses_response)

    # Request path

    def entry(self, app: Any) -> Callable[[Request], Coroutine[Any, Any, Any]]:
        """``call(request)``: a coroutine that resolves the dependencies and returns the handler's value."""
        def run_sync(func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
            loop = asyncio.get_running_loop()
            call = functools.partial(contextvars.copy_context().run, func, *args)
            return loop.run_in_executor(app._handler_executor(), call)

        graph = self

        async def call(request: Request) -> Any:
            overrides = app.dependency_overrides
            steps = graph.steps_for(overrides) if overrides else graph.steps
            return await _run(steps, request, run_sync)

        return call

    def guard_finish(self, finish: Callable[[Request, Any], Any], route_path: str) -> Callable[[Request, Any], Any]:
        """Keep the request-scope exits when turning the handler's value into a response fails.

        ``App.error_response`` drops the request's task batch, and with it the
        ``call_when_done`` cleanups; put an empty batch carrying them back, so
        they still run once the error response was written.
        """

        def guarded_finish(request: Request, value: Any) -> Any:
            batch = request.background
            response = finish(request, value)
            if batch is not None and request.background is None and batch._when_done:
                batch._items = []
                batch.route = route_path
                batch.request_id = request.request_id
                batch.strategy = None
                request.background = batch
            return response

        return guarded_finish


async def _run(steps: list[_Step], request: Request, run_sync: RunSync) -> Any:
    values: list[Any] = [None] * len(steps)
    errors: list[dict[str, Any]] = []
    function_exits: list[tuple[Any, bool, str]] | None = None
    request_exits: list[tuple[Any, bool, str]] | None = None
    last = len(steps) - 1
    try:
        for index, step in enumerate(steps):
            kwargs: dict[str, Any] = {}
            failed = False
            for name, slot in step.subs:
                value = values[slot]
                if value is _FAILED:
                    failed = True
                elif name is not None:
                    kwargs[name] = value
            if step.extractors:
                before = len(errors)
                for name, extract in step.extractors:
                    kwargs[name] = extract(request, errors)
                failed = failed or len(errors) != before
            for name in step.scopes_params:
                kwargs[name] = SecurityScopes(step.scopes)
            if index == last:
                if errors:
                    raise validation_error(request, errors)
                if step.kind == _ASYNC:
                    result = await step.call(**kwargs)
                elif step.kind == _SYNC:
                    result = await run_sync(functools.partial(step.call, **kwargs))
                else:
                    result = step.call(**kwargs)
                break
            if failed:
                values[index] = _FAILED
                continue
            kind = step.kind
            if kind == _ASYNC:
                values[index] = await step.call(**kwargs)
            elif kind == _SYNC:
                values[index] = await run_sync(functools.partial(step.call, **kwargs))
            else:
                if kind == _ASYNC_GEN:
                    generator = step.call(**kwargs)
                    try:
                        values[index] = await generator.__anext__()
                    except StopAsyncIteration:
                        raise RuntimeError(f"dependency {step.name} did not yield a value") from None
                else:
                    generator = step.call(**kwargs)  # runs none of its code yet
                    values[index] = await run_sync(_enter_sync, generator, step.name)
                exit_ = (generator, kind == _ASYNC_GEN, step.name)
                if step.exit_scope == "function":
                    if function_exits is None:
                        function_exits = []
                    function_exits.append(exit_)
                else:
                    if request_exits is None:
                        request_exits = []
                    request_exits.append(exit_)
        if function_exits:
            failure = await _unwind(function_exits, None, run_sync)
            function_exits = None
            if failure is not None:
                raise failure
    except BaseException as exc:
        if function_exits is None and request_exits is None:
            raise
        outcome: BaseException | None = exc
        if function_exits:
            outcome = await _unwind(function_exits, outcome, run_sync)
        if request_exits:
            outcome = await _unwind(request_exits, outcome, run_sync)
        if outcome is None:
            raise RuntimeError(_NOT_RERAISED.format(exc=exc)) from exc
        raise outcome
    if request_exits:
        # NOTE: the exits run in this request's context, in a Task the task runner tracks
        # (the test client and the shutdown drain wait for it).
        _schedule_exits(request, request_exits, run_sync)
    return result


def _schedule_exits(request: Request, exits: list[tuple[Any, bool, str]], run_sync: RunSync) -> None:
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()

    def after_tasks() -> asyncio.Task[None]:
        """Called by the task runner once this request's background tasks have all run."""
        return loop.create_task(_close_after_response(exits, run_sync), context=context)

    _extract_tasks(request, None).call_when_done(after_tasks)


async def _close_after_response(exits: list[tuple[Any, bool, str]], run_sync: RunSync) -> None:
    failure = await _unwind(exits, None, run_sync)
    if failure is not None:
        logger.error("the exit code of a dependency with yield raised after the response was sent",
                     exc_info=failure)


async def _unwind(exits: list[tuple[Any, bool, str]], exc: BaseException | None, run_sync: RunSync
                  ) -> BaseException | None:
    """Run ``exits`` last-entered first, as nested ``with`` blocks would; returns the exception left over.

    Each exit gets the exception in flight thrown in at its ``yield`` (or resumes
    normally if there is none); what it raises replaces it, and if it returns
    normally the exception counts as handled.
    """
    for generator, is_async, name in reversed(exits):
        if is_async:
            exc = await _exit_async(generator, exc, name)
        else:
            exc = await run_sync(_exit_sync, generator, exc, name)
    return exc


async def _exit_async(generator: Any, exc: BaseException | None, name: str) -> BaseException | None:
    try:
        if exc is None:
            await generator.__anext__()
        else:
            await generator.athrow(exc)
    except StopAsyncIteration:
        return None
    except BaseException as raised:  # noqa: BLE001 - handed to the next exit, then to the error response
        return raised
    await generator.aclose()
    return RuntimeError(f"dependency {name} yielded more than once")


def _enter_sync(generator: Any, name: str) -> Any:
    """Run in the thread pool: a sync generator dependency up to its ``yield``."""
    try:
        return next(generator)
    except StopIteration:
        # NOTE: StopIteration can't cross into a Future; say what happened instead.
        raise RuntimeError(f"dependency {name} did not yield a value") from None


def _exit_sync(generator: Any, exc: BaseException | None, name: str) -> BaseException | None:
    """Run in the thread pool: a sync generator dependency's exit."""
    try:
        if exc is None:
            next(generator)
        else:
            generator.throw(exc)
    except StopIteration:
        return None
    except BaseException as raised:  # noqa: BLE001 - handed to the next exit, then to the error response
        return raised
    generator.close()
    return RuntimeError(f"dependency {name} yielded more than once")


def with_dependencies(plan: InjectionPlan, endpoint: Callable[..., Any], route_dependencies: Iterable[Depends],
                      path_params: set[str]) -> InjectionPlan:
    """``plan`` unchanged when the route has no dependencies (its fast path stays as it is); else the graph's plan."""
    route_dependencies = tuple(route_dependencies)
    if not plan.depends and not plan.security_scopes_params and not route_dependencies:
        return plan
    return DependencyGraph(endpoint, route_dependencies, path_params).route_plan()


__all__ = ["DependencyGraph", "Depends", "Security", "SecurityScopes", "with_dependencies"]

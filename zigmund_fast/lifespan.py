"""Startup and shutdown: an app's lifespan context manager and its ``on_startup`` / ``on_shutdown`` hooks.

They run once per worker process: at server start before the listener
accepts a connection, and at shutdown after the drain (requests finished,
background tasks run), so a task may still use what the lifespan opened.
``with TestClient(app) as client:`` runs them around the block.

Order: the lifespan context is entered, then the startup hooks run in the
order given; at shutdown the shutdown hooks run, then the context exits.
(FastAPI ignores ``on_startup``/``on_shutdown`` when ``lifespan`` is given;
here both run, nested in that order.)
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from zigmund_fast.requests import State

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

logger = logging.getLogger("zigmund_fast.lifespan")

F = TypeVar("F", bound=Callable[..., Any])
EventHandler = Callable[[], Any]
# Called with the app; returns an async context manager that may yield a mapping of state.
LifespanFactory = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]

# The exit code of a server process whose startup failed (uvicorn uses 3 too).
STARTUP_FAILED_EXIT_CODE = 3

_EVENTS = ("startup", "shutdown")


class StartupFailed(RuntimeError):
    """Raised by ``Server.start`` when the app's lifespan or a startup hook raised (the cause is chained)."""


class Lifespan:
    """An app's startup and shutdown work (``app.lifespan``).

    Parameters:
        app: passed to ``factory``.
        factory: ``@contextlib.asynccontextmanager`` function called with the app
            (an async generator function is accepted too); what it yields, a
            mapping or ``None``, becomes the state copied into every request's
            ``request.state``.
        on_startup, on_shutdown: callables without arguments, ``def`` or ``async def``.
    """

    def __init__(
        self,
        app: Any,
        factory: LifespanFactory | None = None,
        on_startup: Sequence[EventHandler] | None = None,
        on_shutdown: Sequence[EventHandler] | None = None,
    ) -> None:
        if factory is not None:
            if not callable(factory):
                raise TypeError(f"lifespan must be a callable returning an async context manager, got {factory!r}")
            if inspect.isasyncgenfunction(factory):
                factory = contextlib.asynccontextmanager(factory)
        self.app = app
        self.factory = factory
        self.on_startup: list[EventHandler] = []
        self.on_shutdown: list[EventHandler] = []
        for handler in on_startup or ():
            self.add_event_handler("startup", handler)
        for handler in on_shutdown or ():
            self.add_event_handler("shutdown", handler)
        # What the lifespan context yielded; None if it yielded nothing (or has not started).
        self.state: State | None = None
        self.running = False
        self._context: contextlib.AbstractAsyncContextManager[Any] | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to run at startup or shutdown."""
        return self.factory is None and not self.on_startup and not self.on_shutdown

    def add_event_handler(self, event_type: str, func: EventHandler) -> None:
        """Run ``func()`` at ``"startup"`` or ``"shutdown"``."""
        if event_type not in _EVENTS:
            raise ValueError(f"event type must be 'startup' or 'shutdown', got {event_type!r}")
        if not callable(func):
            raise TypeError(f"{event_type} handler must be callable, got {func!r}")
        (self.on_startup if event_type == "startup" else self.on_shutdown).append(func)

    def on_event(self, event_type: str) -> Callable[[F], F]:
        """Decorator form of ``add_event_handler``: ``@app.on_event("startup")``."""
        if event_type not in _EVENTS:
            raise ValueError(f"event type must be 'startup' or 'shutdown', got {event_type!r}")

        def decorator(func: F) -> F:
            self.add_event_handler(event_type, func)
            return func

        return decorator

    async def startup(self) -> None:
        """Enter the lifespan context and run the startup hooks; any exception propagates.

        If a startup hook fails after the context was entered, the context is
        exited (with that exception) before the exception propagates.
        """
        if self.empty:
            return
        if self.running:
            raise RuntimeError("this app's lifespan is already running (startup was called twice)")
        if self.factory is not None:
            context = self.factory(self.app)
            if not hasattr(context, "__aenter__"):
                raise TypeError(
                    f"lifespan {_name(self.factory)} must return an async context manager (decorate it with "
                    f"@contextlib.asynccontextmanager), got {type(context).__name__}"
                )
            yielded = await context.__aenter__()
            self._context = context
            if yielded is not None and not isinstance(yielded, Mapping):
                await self._exit_context(None)
                raise TypeError(f"lifespan {_name(self.factory)} must yield None or a mapping of state, "
                                f"got {type(yielded).__name__}")
            self.state = None if yielded is None else State(yielded)
        self.running = True
        for handler in self.on_startup:
            try:
                await _call(handler)
            except BaseException as exc:
                self.running = False
                await self._exit_context(exc)
                raise

    async def shutdown(self) -> None:
        """Run the shutdown hooks (all of them, even after one fails), then exit the lifespan context.

        Raises the first exception once everything ran; does nothing if startup did not complete.
        """
        if not self.running:
            return
        self.running = False
        first_error: BaseException | None = None
        for handler in self.on_shutdown:
            try:
                await _call(handler)
            except Exception as exc:
                logger.error("shutdown handler %s failed", _name(handler), exc_info=exc)
                first_error = first_error or exc
        try:
            await self._exit_context(None)
        except Exception as exc:  # noqa: BLE001 - raised below, after the hooks' errors
            first_error = first_error or exc
        if first_error is not None:
            raise first_error

    async def _exit_context(self, exc: BaseException | None) -> None:
        context, self._context = self._context, None
        self.state = None
        if context is not None:
            await context.__aexit__(type(exc) if exc is not None else None, exc, exc.__traceback__ if exc else None)


async def _call(handler: EventHandler) -> None:
    result = handler()
    if inspect.isawaitable(result):
        await result


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def seed_request_state(dispatch: Callable[[Request], Any], state: Mapping[str, Any]) -> Callable[[Request], Any]:
    """``dispatch`` for an app whose lifespan yielded state: each request starts with its own shallow copy."""

    def dispatch_with_state(request: Request) -> Any:
        request.state = State(state)
        return dispatch(request)

    return dispatch_with_state


__all__ = ["STARTUP_FAILED_EXIT_CODE", "Lifespan", "StartupFailed", "seed_request_state"]

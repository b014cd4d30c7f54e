"""Background tasks: the per-request queue handlers fill, and the runner that empties it.

A request's tasks are handed to the ``TaskRunner`` only after its response has
been written to the transport. The runner keeps every submitted batch in a
C ring (``TaskRing``) and runs each batch's tasks in order on the event loop:
plain functions inline, coroutine functions in an asyncio task so that they
may await without holding up anything else.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any, Literal, ParamSpec

from zigmund_fast._impl import TaskRing

P = ParamSpec("P")
ErrorStrategy = Literal["continue", "stop"]

logger = logging.getLogger("zigmund_fast.background")

_CO_COROUTINE = inspect.CO_COROUTINE


def _is_async_callable(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    if code is not None:
        # PERF: a flag test instead of inspect.iscoroutinefunction on the hot path.
        return bool(code.co_flags & _CO_COROUTINE)
    while hasattr(func, "func"):  # functools.partial
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))


def task_name(func: Any) -> str:
    while hasattr(func, "func") and not hasattr(func, "__qualname__"):
        func = func.func
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


class BackgroundTasks:
    """The task queue of one request.

    ``add`` appends; nothing ever replaces or drops what was added. Tasks run
    after the response is sent, in the order they were added.
    """

    __slots__ = ("_items", "route")

    def __init__(self) -> None:
        # Each item: (func, args, kwargs, is_async), decided when added.
        self._items: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], bool]] = []
        self.route: str | None = None

    def add(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)`` to run after the response is sent."""
        if not callable(func):
            raise TypeError(f"BackgroundTasks.add() needs a callable, got {func!r}")
        self._items.append((func, args, kwargs, _is_async_callable(func)))

    add_task = add  # the FastAPI spelling

    def extend(self, other: BackgroundTasks) -> None:
        self._items.extend(other._items)

    def names(self) -> list[str]:
        return [task_name(item[0]) for item in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return f"<BackgroundTasks {self.names()!r}>"


class TaskRunner:
    """Runs submitted batches on one event loop; one runner per server process.

    Parameters:
        loop: the loop the tasks run on.
        error_strategy: ``"continue"`` logs a failing task and runs the rest of
            its request's tasks; ``"stop"`` logs it and skips the rest (logged).
    """

    # PERF: how many batches one loop iteration may run before yielding to I/O.
    BATCHES_PER_TICK = 512

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        error_strategy: ErrorStrategy = "continue",
        max_pending: int = 0,
        on_pressure: Callable[[bool], None] | None = None,
    ) -> None:
        if error_strategy not in ("continue", "stop"):
            raise ValueError(f"background_errors must be 'continue' or 'stop', got {error_strategy!r}")
        self.loop = loop
        # Backpressure: past max_pending queued tasks, on_pressure(True) asks the
        # server to stop reading requests; on_pressure(False) once half drained.
        self.max_pending = max_pending
        self.low_water = max_pending // 2
        self.on_pressure = on_pressure
        self.under_pressure = False
        self.error_strategy = error_strategy
        self.ring = TaskRing(1024)
        # Tasks submitted and not yet finished (queued, running, or waiting in a batch).
        self.pending = 0
        self.succeeded = 0
        self.failed = 0
        self.skipped = 0
        self._scheduled = False
        # Running async batches -> [batch, index of the task being run].
        self._active: dict[asyncio.Task[None], list[Any]] = {}
        self._idle_waiters: list[asyncio.Future[None]] = []

    def submit(self, batch: BackgroundTasks) -> None:
        """Queue a request's tasks. Called after its response was written to the transport."""
        self.ring.push(batch)
        self.pending += len(batch._items)
        if self.max_pending and self.pending >= self.max_pending and not self.under_pressure:
            self.under_pressure = True
            if self.on_pressure is not None:
                self.on_pressure(True)
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._drain)

    def _drain(self) -> None:
        """Called by the loop: run queued batches, a bounded number per iteration."""
        self._scheduled = False
        ring = self.ring
        budget = self.BATCHES_PER_TICK
        while ring and budget:
            budget -= 1
            self._run_batch(ring.pop(), 0)
        if ring:
            self._scheduled = True
            self.loop.call_soon(self._drain)
        else:
            self._maybe_idle()
        self._check_pressure()

    def _check_pressure(self) -> None:
        if self.under_pressure and self.pending <= self.low_water:
            self.under_pressure = False
            if self.on_pressure is not None:
                self.on_pressure(False)

    def _run_batch(self, batch: BackgroundTasks, start: int) -> None:
        items = batch._items
        for index in range(start, len(items)):
            func, args, kwargs, is_async = items[index]
            if is_async:
                where = [batch, index]
                task = self.loop.create_task(self._run_rest_async(batch, where))
                self._active[task] = where
                task.add_done_callback(self._task_done)
                return
            try:
                func(*args, **kwargs)
            except Exception as exc:
                if not self._record_failure(batch, index, exc):
                    return
            else:
                self.succeeded += 1
                self.pending -= 1

    async def _run_rest_async(self, batch: BackgroundTasks, where: list[Any]) -> None:
        items = batch._items
        for position in range(where[1], len(items)):
            where[1] = position
            func, args, kwargs, is_async = items[position]
            try:
                if is_async:
                    await func(*args, **kwargs)
                else:
                    func(*args, **kwargs)
            except asyncio.CancelledError:
                logger.error(
                    "background task %s (route %s) was cancelled; %d later task(s) of the request not run",
                    task_name(func), batch.route, len(items) - position - 1,
                )
                raise
            except Exception as exc:
                if not self._record_failure(batch, position, exc):
                    return
            else:
                self.succeeded += 1
                self.pending -= 1

    def _record_failure(self, batch: BackgroundTasks, index: int, exc: BaseException) -> bool:
        """Log a failed task; returns whether the batch goes on."""
        items = batch._items
        self.failed += 1
        self.pending -= 1
        logger.error(
            "background task %s failed (route %s, task %d of %d)",
            task_name(items[index][0]), batch.route, index + 1, len(items), exc_info=exc,
        )
        if self.error_strategy == "continue":
            return True
        rest = len(items) - index - 1
        if rest:
            self.skipped += rest
            self.pending -= rest
            logger.error(
                "background_errors='stop': skipped %d task(s) of route %s: %s",
                rest, batch.route, ", ".join(task_name(item[0]) for item in items[index + 1 :]),
            )
        return False

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._active.pop(task, None)
        self._maybe_idle()
        self._check_pressure()

    def _maybe_idle(self) -> None:
        if self._idle_waiters and self.idle:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    @property
    def idle(self) -> bool:
        return not self.ring and not self._active

    async def wait_idle(self) -> None:
        """Return once every submitted task has finished."""
        while not self.idle:
            waiter = self.loop.create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def abandon(self) -> list[str]:
        """Stop: drop what is queued and cancel what runs; returns the names of every task not run."""
        leftovers: list[str] = []
        while self.ring:
            leftovers.extend(self.ring.pop().names())
        for task, where in list(self._active.items()):
            batch, position = where
            leftovers.extend(batch.names()[position:])
            task.cancel()
        self.pending = 0
        return leftovers

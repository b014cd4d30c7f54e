"""Background tasks: the per-request queue handlers fill, and the runner that empties it.

A request's tasks are handed to the ``TaskRunner`` only after its response has
been written to the transport. The runner keeps every submitted batch in a
C ring (``TaskRing``) and runs each batch's tasks in order on the event loop:
plain functions inline (cheap; for lightweight work, as the seed intends),
``blocking=True`` functions on a dedicated thread pool, and coroutine
functions in an asyncio task so that they may await without holding up
anything else. Batches of different requests interleave.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, ParamSpec, Union

from zigmund_fast._impl import TaskRunnerCore, TasksCore, set_task_item_type, task_name

if TYPE_CHECKING:
    from zigmund_fast.observability import Observer

P = ParamSpec("P")
Outcome = Literal["continue", "stop"]
ErrorStrategy = Union[Literal["continue", "stop"], Callable[["TaskInfo", BaseException], Outcome]]

logger = logging.getLogger("zigmund_fast.background")

_CO_COROUTINE = inspect.CO_COROUTINE


def _is_async_callable(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    if code is not None:
        # PERF: a flag test instead of inspect.iscoroutinefunction on the hot path.
        return bool(code.co_flags & _CO_COROUTINE)
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))


def check_strategy(strategy: Any) -> None:
    if strategy not in ("continue", "stop") and not callable(strategy):
        raise ValueError(f"background_errors must be 'continue', 'stop' or a callable, got {strategy!r}")


class TaskItem(NamedTuple):
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    is_async: bool
    timeout: float | None
    blocking: bool


set_task_item_type(TaskItem)  # what the compiled ``add`` makes


class TaskInfo(NamedTuple):
    """What an error-strategy callable is told about the task that failed."""

    name: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    route: str | None
    request_id: str | None
    index: int
    count: int


class BackgroundTasks(TasksCore):
    """The task queue of one request.

    ``add(func, *args, **kwargs)`` appends (it is compiled: ``TasksCore.add``);
    nothing ever replaces or drops what was added. Tasks run after the response
    is sent, in the order they were added.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the signature type checkers see; at run time `add` is TasksCore's
        def add(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None: ...

    def _add_with_options(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``add`` with keywords (``timeout``/``blocking`` options and the function's own) or an odd callable."""
        timeout = kwargs.pop("timeout", None)
        blocking = bool(kwargs.pop("blocking", False))
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not callable(func):
            raise TypeError(f"BackgroundTasks.add() needs a callable, got {func!r}")
        is_async = _is_async_callable(func)
        if blocking and is_async:
            raise ValueError(f"blocking=True is for plain functions; {task_name(func)} is a coroutine function")
        self._items.append(TaskItem(func, args, kwargs, is_async, timeout, blocking))  # type: ignore[arg-type]

    def add_task(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """FastAPI's spelling: every keyword goes to ``func``."""
        if not callable(func):
            raise TypeError(f"BackgroundTasks.add_task() needs a callable, got {func!r}")
        self._items.append(TaskItem(func, args, kwargs, _is_async_callable(func), None, False))

    def extend(self, other: BackgroundTasks) -> None:
        self._items.extend(other._items)
        if other._when_done:
            for callback in other._when_done:
                self.call_when_done(callback)

    def call_when_done(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` once every task of this request has run, failed or been skipped.

        Also called when the tasks are abandoned at shutdown, and right after
        the response was written when there are no tasks. If it returns an
        awaitable, that is run on the loop (and awaited by ``wait_idle`` and the
        shutdown drain). Used for the cleanup of ``yield`` dependencies, so a
        task may still use what such a dependency opened.
        """
        if self._when_done is None:
            self._when_done = []
        self._when_done.append(callback)

    def names(self) -> list[str]:
        return [task_name(item.func) for item in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return f"<BackgroundTasks {self.names()!r}>"


class TaskRunner(TaskRunnerCore):
    """Runs submitted batches on one event loop; one runner per server process.

    Parameters:
        loop: the loop the tasks run on.
        error_strategy: what a failing task means for the rest of its request's
            tasks: ``"continue"``, ``"stop"``, or ``callable(TaskInfo, exc)``
            returning one of those. A batch's own ``strategy`` (per route) wins.
        max_pending: queued tasks past which ``on_pressure(True)`` is called
            (the server stops reading requests); ``on_pressure(False)`` follows
            once half of them have run. 0 disables.
        observer: receives task events, if it has sinks (C calls from the drain loop).
        blocking_threads: size of the thread pool for ``blocking=True`` tasks.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        error_strategy: ErrorStrategy = "continue",
        max_pending: int = 0,
        on_pressure: Callable[[bool], None] | None = None,
        observer: Observer | None = None,
        blocking_threads: int = 16,
    ) -> None:
        check_strategy(error_strategy)
        super().__init__(loop, max_pending)
        self.error_strategy = error_strategy
        self.on_pressure = on_pressure
        self.observer = observer if observer is not None and observer.enabled else None
        self.blocking_threads = blocking_threads
        self._executor: ThreadPoolExecutor | None = None
        # Running async batches -> [batch, index of the task being run].
        self._active: dict[asyncio.Task[None], list[Any]] = {}
        # Awaitables returned by call_when_done callbacks, still running.
        self._finishing: set[asyncio.Task[Any]] = set()
        self._idle_waiters: list[asyncio.Future[None]] = []

    # submit() and the drain loop are in TaskRunnerCore; these are the policy hooks it calls.

    def _start_async(self, batch: BackgroundTasks, index: int) -> None:
        """Run the rest of ``batch``, from ``index``, in an asyncio task (it awaits, or has options)."""
        where = [batch, index]
        task = self.loop.create_task(self._run_rest_async(batch, where))
        self._active[task] = where
        task.add_done_callback(self._task_done)

    async def _run_rest_async(self, batch: BackgroundTasks, where: list[Any]) -> None:
        try:
            await self._run_rest(batch, where)
        finally:
            self._batch_done(batch)
        self._check_pressure()

    async def _run_rest(self, batch: BackgroundTasks, where: list[Any]) -> None:
        items = batch._items
        observer = self.observer
        for position in range(where[1], len(items)):
            where[1] = position
            item = items[position]
            if observer is not None:
                observer.task_start(batch, position)
            started = time.monotonic()
            try:
                await self._call(item)
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise  # the runner itself is being stopped
                # NOTE: asyncio.wait_for turns a timeout into TimeoutError, so a bare
                # CancelledError here came from the task's own code.
                if not self._record_failure(batch, position, asyncio.CancelledError("task cancelled"),
                                            time.monotonic() - started):
                    return
            except Exception as exc:
                if not self._record_failure(batch, position, exc, time.monotonic() - started):
                    return
            else:
                self.succeeded += 1
                self.pending -= 1
                if observer is not None:
                    observer.task_end(batch, position, time.monotonic() - started)

    def _batch_done(self, batch: BackgroundTasks) -> None:
        """Run a finished batch's ``call_when_done`` callbacks; awaitables they return become tasks."""
        callbacks = batch._when_done
        if not callbacks:
            return
        batch._when_done = None
        for callback in callbacks:
            try:
                result = callback()
            except Exception:
                logger.exception("call_when_done callback %r of route %s failed", callback, batch.route)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result, loop=self.loop)
                self._finishing.add(task)
                task.add_done_callback(self._finishing_done)

    def _finishing_done(self, task: asyncio.Future[Any]) -> None:
        self._finishing.discard(task)  # type: ignore[arg-type]
        if not task.cancelled() and task.exception() is not None:
            logger.error("call_when_done callback failed", exc_info=task.exception())
        self._maybe_idle()

    async def _call(self, item: TaskItem) -> None:
        if item.blocking:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.blocking_threads, thread_name_prefix="zigmund-task")
            call = functools.partial(contextvars.copy_context().run, item.func, *item.args, **item.kwargs)
            awaitable: Any = self.loop.run_in_executor(self._executor, call)
        elif item.is_async:
            awaitable = item.func(*item.args, **item.kwargs)
        else:
            item.func(*item.args, **item.kwargs)
            return
        if item.timeout is None:
            await awaitable
            return
        try:
            await asyncio.wait_for(awaitable, item.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"background task {task_name(item.func)} timed out after {item.timeout}s") from None

    def _decide(self, batch: BackgroundTasks, index: int, exc: BaseException) -> Outcome:
        strategy = batch.strategy if batch.strategy is not None else self.error_strategy
        if not callable(strategy):
            return strategy  # type: ignore[return-value]
        item = batch._items[index]
        info = TaskInfo(task_name(item.func), item.func, item.args, item.kwargs, batch.route, batch.request_id,
                        index, len(batch._items))
        try:
            decision = strategy(info, exc)
        except Exception:
            logger.exception("background_errors callable failed; continuing")
            return "continue"
        if decision not in ("continue", "stop"):
            logger.error("background_errors callable returned %r (not 'continue' or 'stop'); continuing", decision)
            return "continue"
        return decision  # type: ignore[no-any-return]

    def _record_failure(self, batch: BackgroundTasks, index: int, exc: BaseException, duration: float) -> bool:
        """Log (and emit) a failed task; returns whether the batch goes on."""
        items = batch._items
        name = task_name(items[index].func)
        self.failed += 1
        self.pending -= 1
        logger.error(
            "background task %s failed (route %s, request %s, task %d of %d): %s: %s",
            name, batch.route, batch.request_id, index + 1, len(items), type(exc).__name__, exc, exc_info=exc,
        )
        observer = self.observer
        if observer is not None:
            observer.emit("task.error", batch.request_id, task=name, route=batch.route, exc_type=type(exc).__name__,
                          message=str(exc), traceback="".join(traceback.format_exception(exc)))
            observer.emit("task.end", batch.request_id, task=name, route=batch.route, duration=duration,
                          outcome="error")
        if self._decide(batch, index, exc) == "continue":
            return True
        rest = items[index + 1 :]
        if rest:
            self.skipped += len(rest)
            self.pending -= len(rest)
            names = [task_name(item.func) for item in rest]
            logger.error("background_errors='stop': skipped %d task(s) of route %s: %s",
                         len(rest), batch.route, ", ".join(names))
            if observer is not None:
                for skipped in names:
                    observer.emit("task.end", batch.request_id, task=skipped, route=batch.route, duration=0.0,
                                  outcome="skipped")
        return False

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._active.pop(task, None)
        self._maybe_idle()
        self._check_pressure()

    def _check_pressure(self) -> None:
        if self.under_pressure and self.pending <= self.low_water:
            self.under_pressure = False
            if self.on_pressure is not None:
                self.on_pressure(False)

    def _maybe_idle(self) -> None:
        if self._idle_waiters and self.idle:
            waiters, self._idle_waiters = self._idle_waiters, []
            self.idle_waiting = False
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    @property
    def idle(self) -> bool:
        return not self.ring and not self._active and not self._finishing

    async def wait_idle(self) -> None:
        """Return once every submitted task has finished."""
        while not self.idle:
            waiter = self.loop.create_future()
            self._idle_waiters.append(waiter)
            self.idle_waiting = True
            await waiter

    def abandon(self) -> list[str]:
        """Stop: drop what is queued and cancel what runs; returns the names of every task not run."""
        leftovers: list[str] = []
        while self.ring:
            batch = self.ring.pop()
            leftovers.extend(batch.names())
            self._batch_done(batch)
        for task, where in list(self._active.items()):
            batch, position = where
            leftovers.extend(batch.names()[position:])
            task.cancel()
        self.pending = 0
        return leftovers

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

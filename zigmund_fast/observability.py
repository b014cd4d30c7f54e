"""Observability: events for requests and background tasks, and the sinks that receive them.

A sink is a callable taking one ``Event``, or an object with ``emit(event)``.
Sinks are called on the event loop, in the order added. A sink that raises is
logged (once per sink) and otherwise ignored: it never breaks a request or a
task. With no sink attached nothing is built or called.

``JSONLinesSink`` is special-cased: the common events reach it as C records
(``zigmund_fast._compiled.events``), encoded in bulk when it flushes, so that
it can stay on at full request rate. Other sinks receive ``Event`` objects.

Event kinds and their ``data`` keys:

- ``request.start``: method, path
- ``request.end``: method, route, status, duration (seconds), target (path and
  query), client, http_version, size (body bytes), user_agent, referer; emitted
  once the response was written to the transport
- ``task.queued``: task, route, queue_depth (tasks queued in this process)
- ``task.start``: task, route
- ``task.end``: task, route, duration, outcome (``ok`` / ``error`` / ``skipped``)
- ``task.error``: task, route, exc_type, message, traceback
- ``tasks.discarded``: route, count, tasks (the handler raised)
- ``shutdown.drain``: pending, run, left_over, left_over_tasks
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, Any, NamedTuple

import msgspec

from zigmund_fast._impl import (
    EventLog,
    ObserverCore,
    request_id_from,
    reset_request_id_prefix,
    wall_offset,
)

logger = logging.getLogger("zigmund_fast.observability")

Sink = Callable[["Event"], Any]


# Wall-clock time of monotonic 0, so an event needs only one clock read.
_WALL_OFFSET: float = wall_offset


class Event(NamedTuple):
    """One thing that happened (immutable). ``timestamp`` is ``time.monotonic()``."""

    kind: str
    timestamp: float
    request_id: str | None
    data: Mapping[str, Any]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self.data[key]
        return tuple.__getitem__(self, key)

    @property
    def wall_time(self) -> float:
        """The event's time as ``time.time()`` would have given it."""
        return self.timestamp + _WALL_OFFSET

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-lines sink writes it.

        ``time`` is ``wall_time``: the monotonic ``timestamp`` plus one offset fixed per process, so
        within a process it orders and subtracts exactly like ``timestamp`` and reads like the wall
        clock. (``timestamp`` itself is not written: it would add 11% to the log and no information.)
        """
        return {"kind": self.kind, "time": self.wall_time, "request_id": self.request_id, **self.data}


_new_event = tuple.__new__
_monotonic = time.monotonic


class Observer(ObserverCore):
    """Fans events out to the sinks; ``enabled`` is False while there are none.

    The compiled base records the per-request events (``start_request``,
    ``requests_written``, ``task_queued``, ``task_start``, ``task_end``);
    ``emit`` is the general path for the rare ones.
    """

    def __init__(self) -> None:
        super().__init__()
        self._broken: set[int] = set()

    def add(self, sink: Any) -> None:
        if isinstance(sink, JSONLinesSink):
            self.logs.append(sink.log)
            self.enabled = True
            return
        emit = getattr(sink, "emit", None)
        target = emit if callable(emit) else sink
        if not callable(target):
            raise TypeError(f"a sink must be callable or have an emit(event) method, got {sink!r}")
        self.sinks.append(target)
        self.enabled = True

    def emit(self, kind: str, request_id: str | None, **data: Any) -> None:
        """Send an event of ``kind`` with ``data`` to every sink."""
        event = _new_event(Event, (kind, _monotonic(), request_id, MappingProxyType(data)))
        for log in self.logs:
            log.add_event(event)
        if self.sinks:
            self._dispatch(event)

    def _publish(self, kind: str, timestamp: float, request_id: str | None, data: dict[str, Any]) -> None:
        # Called by the compiled base while Python sinks are attached.
        self._dispatch(_new_event(Event, (kind, timestamp, request_id, MappingProxyType(data))))

    def _dispatch(self, event: Event) -> None:
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:
                if id(sink) not in self._broken:
                    self._broken.add(id(sink))
                    logger.exception("observability sink %r failed (further failures of it are not logged)", sink)


class MemorySink:
    """Keeps every event in a list (thread-safe); for tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def kinds(self, request_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if request_id is None or e.request_id == request_id]

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()


class JSONLinesSink:
    """Writes one JSON object per event and line, to stderr or a file (appending).

    Lines are written in bulk: when ``BATCH`` events have gathered, when the
    oldest buffered one is ``flush_interval`` seconds old (a timer on the
    event loop), and on ``flush()``/``close()`` and at interpreter exit.
    Each line has ``kind``, ``time`` (the event's monotonic timestamp as wall
    time: see ``Event.to_dict``), ``request_id`` and the event's data; times
    have microsecond precision.

    A file's lines are streamed to disk (``drop_cache=True``, the default on
    Linux): every 4 MiB is handed to the disk when full, and dropped from the
    page cache once written, so a busy sink keeps a few MiB of cache rather
    than gigabytes of dirty pages. A reader more than about 4 MiB behind the
    end reads from disk. ``drop_cache=False`` leaves caching to the kernel.
    """

    BATCH = 1024

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, flush_interval: float = 0.5, drop_cache: bool = True,
    ) -> None:
        self._path = path
        self._file: IO[bytes] = open(path, "ab") if path is not None else sys.stderr.buffer  # noqa: SIM115
        self._lock = threading.Lock()
        # PERF: a file of our own is written by the compiled log itself (no bytes copy, no Python
        # call per batch); stderr is shared with Python's own writers, so it goes through its buffer.
        fd = self._file.fileno() if path is not None else -1
        self.log = EventLog(self._write, flush_interval, self.BATCH, fd, drop_cache and fd >= 0)
        atexit.register(self.flush)

    def __call__(self, event: Event) -> None:
        self.log.add_event(event)

    def _write(self, lines: bytes) -> None:
        with self._lock:
            try:
                self._file.write(lines)
                self._file.flush()
            except (OSError, ValueError) as exc:  # a closed or broken file must not break requests
                logger.warning("JSONLinesSink could not write %d line(s): %s", lines.count(b"\n"), exc)

    def flush(self) -> None:
        self.log.flush()

    def close(self) -> None:
        self.flush()
        atexit.unregister(self.flush)
        if self._path is not None:
            self.log.fd = -1  # the number may be reused once closed: later lines go to _write (and fail there)
            self._file.close()


_encoder = msgspec.json.Encoder(enc_hook=str)


class AccessLogSink:
    """An access log: one line per ``request.end`` event, in Apache's combined format or as JSON.

    Written at flush time (after the response went out), to stderr or a file.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, format: str = "combined") -> None:
        if format not in ("combined", "json"):
            raise ValueError(f"access log format must be 'combined' or 'json', got {format!r}")
        self._format = format
        self._path = path
        self._file: IO[str] = open(path, "a", encoding="utf-8") if path is not None else sys.stderr  # noqa: SIM115
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if event.kind != "request.end":
            return
        data = event.data
        if self._format == "json":
            line = _encoder.encode({"time": event.wall_time, "request_id": event.request_id, **data}).decode()
        else:
            when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(event.wall_time))
            line = '%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s"' % (  # noqa: UP031
                data["client"] or "-", when, data["method"], data["target"], data["http_version"], data["status"],
                data["size"], _quote(data["referer"]), _quote(data["user_agent"]),
            )
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._path is not None:
            self._file.close()


def _quote(value: str | None) -> str:
    return "-" if value is None else value.replace("\\", "\\\\").replace('"', '\\"')


# Request ids (compiled): a well-formed incoming X-Request-ID is kept, anything else is
# replaced by "<pid>-<start time>-<counter>" in hex; reset_request_id_prefix() after fork.
__all__ = [
    "AccessLogSink", "Event", "JSONLinesSink", "MemorySink", "Observer", "Sink", "request_id_from",
    "reset_request_id_prefix",
]

"""Observability: events for requests and background tasks, and the sinks that receive them.

A sink is a callable taking one ``Event``, or an object with ``emit(event)``.
Sinks are called on the event loop, in the order added. A sink that raises is
logged (once per sink) and otherwise ignored: it never breaks a request or a
task. With no sink attached nothing is built or called.

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
import itertools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, Any, NamedTuple

import msgspec

logger = logging.getLogger("zigmund_fast.observability")

Sink = Callable[["Event"], Any]


# Wall-clock time of monotonic 0, so an event needs only one clock read.
_WALL_OFFSET = time.time() - time.monotonic()


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
        return {"kind": self.kind, "time": self.wall_time, "monotonic": self.timestamp,
                "request_id": self.request_id, **self.data}


_new_event = tuple.__new__
_monotonic = time.monotonic


class Observer:
    """Fans events out to the sinks; ``enabled`` is False while there are none."""

    def __init__(self) -> None:
        self._sinks: list[Callable[[Event], Any]] = []
        self._broken: set[int] = set()
        self.enabled = False

    def add(self, sink: Any) -> None:
        emit = getattr(sink, "emit", None)
        target = emit if callable(emit) else sink
        if not callable(target):
            raise TypeError(f"a sink must be callable or have an emit(event) method, got {sink!r}")
        self._sinks.append(target)
        self.enabled = True

    def emit(self, kind: str, request_id: str | None, **data: Any) -> None:
        # PERF: a tuple built directly (no dataclass __init__) and one clock read.
        event = _new_event(Event, (kind, _monotonic(), request_id, MappingProxyType(data)))
        for sink in self._sinks:
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

    Events are buffered and written when ``BATCH`` have gathered, when the
    oldest buffered one is ``flush_interval`` seconds old (checked as events
    arrive), and on ``flush()``/``close()`` and at interpreter exit.
    """

    BATCH = 1024

    def __init__(self, path: str | os.PathLike[str] | None = None, *, flush_interval: float = 0.5) -> None:
        self._path = path
        self._file: IO[bytes] = open(path, "ab") if path is not None else sys.stderr.buffer  # noqa: SIM115
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._flush_interval = flush_interval
        self._oldest = 0.0
        atexit.register(self.flush)

    def __call__(self, event: Event) -> None:
        # PERF: only keep the event here; encoding happens in bulk when the buffer is written.
        timestamp = event.timestamp
        with self._lock:
            if not self._events:
                self._oldest = timestamp
            self._events.append(event)
            if len(self._events) < self.BATCH and timestamp - self._oldest < self._flush_interval:
                return
            events, self._events = self._events, []
        self._write(events)

    def _write(self, events: list[Event]) -> None:
        offset = _WALL_OFFSET
        lines = _encode_lines([
            {"kind": kind, "time": timestamp + offset, "monotonic": timestamp, "request_id": request_id, **data}
            for kind, timestamp, request_id, data in events
        ])
        try:
            self._file.write(lines)
            self._file.flush()
        except (OSError, ValueError) as exc:  # a closed or broken file must not break requests
            logger.warning("JSONLinesSink could not write %d event(s): %s", len(events), exc)

    def flush(self) -> None:
        with self._lock:
            events, self._events = self._events, []
        if events:
            self._write(events)

    def close(self) -> None:
        self.flush()
        atexit.unregister(self.flush)
        if self._path is not None:
            self._file.close()


_encoder = msgspec.json.Encoder(enc_hook=str)
_encode_lines = _encoder.encode_lines


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


# Request ids: a well-formed incoming X-Request-ID is kept, anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_counter = itertools.count(1)
_prefix = f"{os.getpid():x}-{int(time.time()):x}"


def request_id_from(header_value: str | None) -> str:
    if header_value is not None and _REQUEST_ID.fullmatch(header_value):
        return header_value
    return f"{_prefix}-{next(_counter):x}"


def reset_request_id_prefix() -> None:
    """Called in a freshly forked worker so its ids differ from its siblings'."""
    global _prefix
    _prefix = f"{os.getpid():x}-{int(time.time()):x}"

"""Prometheus metrics, fed by the observability events; aggregated across worker processes.

Each process keeps its own counters. With ``--workers N`` every worker also
writes a snapshot to a directory the supervisor shares with them
(``ZIGMUND_METRICS_DIR``), once a second and when asked for ``/metrics``; the
answer sums the snapshots of all workers, so any worker can serve the scrape.
Counters of a worker that died stay in the sum (its last snapshot), as in
prometheus_client's multiprocess mode; its pending-task gauge is dropped.

When ``prometheus_client`` is installed, the answer also carries what its
registry holds (the application's own metrics, and the process/GC/platform
collectors), so one scrape sees both. With ``PROMETHEUS_MULTIPROC_DIR`` set,
that part is prometheus_client's multiprocess aggregate instead, for
applications that use its multiprocess mode across ``--workers``.
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zigmund_fast.observability import Event

METRICS_DIR_ENV = "ZIGMUND_METRICS_DIR"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_COUNTERS = {
    "task.queued": "zigmund_tasks_queued_total",
    "task.start": "zigmund_tasks_started_total",
}
_OUTCOMES = {"ok": "zigmund_tasks_succeeded_total", "error": "zigmund_tasks_failed_total",
             "skipped": "zigmund_tasks_skipped_total"}
_HELP = {
    "zigmund_requests_total": ("counter", "HTTP requests answered, by method, route and status."),
    "zigmund_request_duration_seconds": ("histogram", "Time from request dispatch to response written."),
    "zigmund_tasks_queued_total": ("counter", "Background tasks queued (after their response was written)."),
    "zigmund_tasks_started_total": ("counter", "Background tasks started."),
    "zigmund_tasks_succeeded_total": ("counter", "Background tasks that finished without an error."),
    "zigmund_tasks_failed_total": ("counter", "Background tasks that raised or timed out."),
    "zigmund_tasks_skipped_total": ("counter", "Background tasks skipped by the 'stop' error strategy."),
    "zigmund_tasks_discarded_total": ("counter", "Background tasks dropped because their handler raised."),
    "zigmund_task_duration_seconds": ("histogram", "Background task run time."),
    "zigmund_tasks_pending": ("gauge", "Background tasks queued or running now."),
    "zigmund_shutdown_drain_run_total": ("counter", "Tasks run during graceful-shutdown drains."),
    "zigmund_shutdown_drain_left_over_total": ("counter", "Tasks not run at a shutdown deadline."),
}

Labels = tuple[tuple[str, str], ...]


class Metrics:
    """A sink that counts; ``pending`` is read from the task runner when a snapshot is taken."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[Labels, float]] = {}
        self.histograms: dict[str, dict[Labels, list[float]]] = {}
        self.runner: Any = None

    def _inc(self, name: str, labels: Labels, amount: float = 1.0) -> None:
        series = self.counters.setdefault(name, {})
        series[labels] = series.get(labels, 0.0) + amount

    def _observe(self, name: str, labels: Labels, value: float) -> None:
        series = self.histograms.setdefault(name, {})
        buckets = series.get(labels)
        if buckets is None:
            # [count per bucket..., +Inf count, sum]
            buckets = series[labels] = [0.0] * (len(BUCKETS) + 2)
        buckets[bisect.bisect_left(BUCKETS, value)] += 1
        buckets[-1] += value

    def __call__(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind == "request.end":
            route = data["route"] or "<unmatched>"
            self._inc("zigmund_requests_total", (("method", data["method"]), ("route", route),
                                                 ("status", str(data["status"]))))
            self._observe("zigmund_request_duration_seconds", (("route", route),), data["duration"])
        elif kind in _COUNTERS:
            self._inc(_COUNTERS[kind], (("route", str(data["route"])),))
        elif kind == "task.end":
            self._inc(_OUTCOMES[data["outcome"]], (("route", str(data["route"])),))
            if data["outcome"] != "skipped":
                self._observe("zigmund_task_duration_seconds", (("task", data["task"]),), data["duration"])
        elif kind == "tasks.discarded":
            self._inc("zigmund_tasks_discarded_total", (("route", str(data["route"])),), data["count"])
        elif kind == "shutdown.drain":
            self._inc("zigmund_shutdown_drain_run_total", (), data["run"])
            self._inc("zigmund_shutdown_drain_left_over_total", (), data["left_over"])

    def snapshot(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "pending": self.runner.pending if self.runner is not None else 0,
            "counters": {name: [[list(map(list, labels)), value] for labels, value in series.items()]
                         for name, series in self.counters.items()},
            "histograms": {name: [[list(map(list, labels)), values] for labels, values in series.items()]
                           for name, series in self.histograms.items()},
        }

    def write_snapshot(self, directory: str | os.PathLike[str]) -> None:
        path = Path(directory) / f"worker-{os.getpid()}.json"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.snapshot(), handle)
        os.replace(tmp, path)

    def collect(self) -> str:
        """The exposition text: ours (summed over workers when they share a directory), then prometheus_client's."""
        return self._collect_own() + prometheus_client_text()

    def _collect_own(self) -> str:
        directory = os.environ.get(METRICS_DIR_ENV)
        if not directory:
            return render([self.snapshot()])
        self.write_snapshot(directory)
        snapshots = []
        for path in sorted(Path(directory).glob("worker-*.json")):
            try:
                snapshot = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            pid = snapshot.get("pid")
            if pid != os.getpid() and not _alive(pid):
                snapshot["pending"] = 0
            snapshots.append(snapshot)
        return render(snapshots)


def prometheus_client_text() -> str:
    """What prometheus_client's registry exposes, or "" when it is not installed."""
    try:
        import prometheus_client
    except ImportError:
        return ""
    registry: Any = prometheus_client.REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return prometheus_client.generate_latest(registry).decode("utf-8")


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def _label_text(labels: Iterable[Iterable[str]], extra: str = "") -> str:
    parts = [f'{key}="{_escape(value)}"' for key, value in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(snapshots: list[dict[str, Any]]) -> str:
    """Sum snapshots and render Prometheus text format 0.0.4."""
    counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    histograms: dict[str, dict[tuple[tuple[str, str], ...], list[float]]] = {}
    pending = 0
    for snapshot in snapshots:
        pending += snapshot.get("pending", 0)
        for name, series in snapshot.get("counters", {}).items():
            target = counters.setdefault(name, {})
            for labels, value in series:
                key = tuple(tuple(pair) for pair in labels)
                target[key] = target.get(key, 0.0) + value
        for name, series in snapshot.get("histograms", {}).items():
            target_h = histograms.setdefault(name, {})
            for labels, values in series:
                key = tuple(tuple(pair) for pair in labels)
                current = target_h.setdefault(key, [0.0] * len(values))
                for index, value in enumerate(values):
                    current[index] += value
    lines: list[str] = []
    for name, (kind, text) in _HELP.items():
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        if kind == "gauge":
            lines.append(f"{name} {pending}")
        elif kind == "counter":
            for labels, value in counters.get(name, {}).items():
                lines.append(f"{name}{_label_text(labels)} {_number(value)}")
        else:
            for labels, values in histograms.get(name, {}).items():
                cumulative = 0.0
                for bound, count in zip(BUCKETS, values):
                    cumulative += count
                    bucket = _label_text(labels, 'le="' + str(bound) + '"')
                    lines.append(f"{name}_bucket{bucket} {_number(cumulative)}")
                cumulative += values[len(BUCKETS)]
                bucket = _label_text(labels, 'le="+Inf"')
                lines.append(f"{name}_bucket{bucket} {_number(cumulative)}")
                lines.append(f"{name}_sum{_label_text(labels)} {values[-1]}")
                lines.append(f"{name}_count{_label_text(labels)} {_number(cumulative)}")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)

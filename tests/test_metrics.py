"""Prometheus metrics: request and task counters, histograms, the pending gauge, workers summed."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import zigmund_fast
from zigmund_fast import App, BackgroundTasks, HTTPException
from zigmund_fast.testing import TestClient

from .conftest import read_response


def value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{series} not in:\n{text}"
    return float(match.group(1))


def boom() -> None:
    raise ValueError("x")


def make_app() -> App:
    app = App(metrics_path="/metrics")

    @app.post("/work")
    async def work(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(lambda: None)
        tasks.add(boom)
        return {"ok": True}

    @app.post("/refuse")
    async def refuse(tasks: BackgroundTasks) -> None:
        tasks.add(lambda: None)
        raise HTTPException(400)

    return app


def test_metrics_count_requests_and_tasks() -> None:
    with TestClient(make_app()) as client:
        for _ in range(3):
            client.post("/work")
        client.post("/refuse")
        response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert value(text, 'zigmund_requests_total{method="POST",route="/work",status="200"}') == 3
    assert value(text, 'zigmund_requests_total{method="POST",route="/refuse",status="400"}') == 1
    assert value(text, 'zigmund_tasks_queued_total{route="/work"}') == 6
    assert value(text, 'zigmund_tasks_started_total{route="/work"}') == 6
    assert value(text, 'zigmund_tasks_succeeded_total{route="/work"}') == 3
    assert value(text, 'zigmund_tasks_failed_total{route="/work"}') == 3
    assert value(text, 'zigmund_tasks_discarded_total{route="/refuse"}') == 1
    assert value(text, "zigmund_tasks_pending") == 0
    assert value(text, 'zigmund_request_duration_seconds_count{route="/work"}') == 3
    assert value(text, 'zigmund_request_duration_seconds_bucket{route="/work",le="+Inf"}') == 3
    assert "# TYPE zigmund_task_duration_seconds histogram" in text


def test_prometheus_client_metrics_are_served_alongside_ours() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry_counter = prometheus_client.Counter("zigmund_test_app_orders", "Orders taken by the test app.")
    registry_counter.inc(5)
    try:
        with TestClient(make_app()) as client:
            client.post("/work")
            text = client.get("/metrics").text
    finally:
        prometheus_client.REGISTRY.unregister(registry_counter)
    assert value(text, "zigmund_test_app_orders_total") == 5
    assert value(text, 'zigmund_tasks_succeeded_total{route="/work"}') == 1
    assert "# TYPE zigmund_tasks_pending gauge" in text


def test_built_in_exposition_without_prometheus_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import now fails
    with TestClient(make_app()) as client:
        client.post("/work")
        text = client.get("/metrics").text
    assert value(text, 'zigmund_tasks_succeeded_total{route="/work"}') == 1
    assert "python_gc" not in text and "process_" not in text


def test_metrics_are_off_by_default() -> None:
    with TestClient(App()) as client:
        assert client.get("/metrics").status_code == 404


APP = '''
import zigmund_fast as zigmund
app = zigmund.App(metrics_path="/metrics")

@app.post("/work")
async def work(tasks: zigmund.BackgroundTasks):
    tasks.add(lambda: None)
    return {"ok": True}
'''


def test_metrics_are_summed_across_workers(tmp_path: Path) -> None:
    (tmp_path / "metricsapp.py").write_text(textwrap.dedent(APP))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ)
    env.pop("ZIGMUND_METRICS_DIR", None)
    parent = str(Path(zigmund_fast.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [parent, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-m", "zigmund_fast", "serve", "metricsapp:app", "--port", str(port),
                             "--workers", "2"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        pids: set[str] = set()
        sent = 0
        while time.monotonic() < deadline and (sent < 200 or len(pids) < 2):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    sock.sendall(b"POST /work HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    response = read_response(sock)
                    assert response.status == 200
                    sent += 1
                    pids.add(response.header("x-request-id").split("-")[0])  # type: ignore[union-attr]
            except ConnectionRefusedError:
                time.sleep(0.05)
        assert len(pids) == 2, "both workers should have answered"
        time.sleep(1.5)  # every worker writes its snapshot at least once a second
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
            text = read_response(sock).body.decode()
        assert value(text, 'zigmund_requests_total{method="POST",route="/work",status="200"}') == sent
        assert value(text, 'zigmund_tasks_succeeded_total{route="/work"}') == sent
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

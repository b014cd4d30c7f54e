"""Observability sinks: the events of a request and its tasks, their order, request ids, sink failures."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zigmund_fast import App, BackgroundTasks, HTTPException
from zigmund_fast._impl import EventLog, ObserverCore, wall_offset
from zigmund_fast.observability import Event, JSONLinesSink, MemorySink
from zigmund_fast.requests import Request
from zigmund_fast.testing import TestClient


def ok_task() -> None:
    return None


def failing_task() -> None:
    raise ValueError("task exploded")


async def async_task() -> None:
    await asyncio.sleep(0.01)


def three_task_app(sink: Any, **settings: Any) -> App:
    app = App(**settings)
    app.add_sink(sink)

    @app.post("/jobs/{job}")
    async def jobs(job: int, tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add(ok_task)
        tasks.add(failing_task)
        tasks.add(async_task)
        return {"job": job}

    @app.post("/raises")
    async def raises(tasks: BackgroundTasks) -> None:
        tasks.add(ok_task)
        tasks.add(ok_task)
        raise HTTPException(409, "no")

    return app


def test_events_of_a_request_with_three_tasks_one_failing_in_order() -> None:
    sink = MemorySink()
    with TestClient(three_task_app(sink)) as client:
        response = client.post("/jobs/7", headers={"x-request-id": "req-abc"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-abc"
    events = [e for e in sink.events if e.request_id == "req-abc"]
    assert [(e.kind, e.data.get("task"), e.data.get("outcome")) for e in events] == [
        ("request.start", None, None),
        ("request.end", None, None),
        ("task.queued", "ok_task", None),
        ("task.queued", "failing_task", None),
        ("task.queued", "async_task", None),
        ("task.start", "ok_task", None),
        ("task.end", "ok_task", "ok"),
        ("task.start", "failing_task", None),
        ("task.error", "failing_task", None),
        ("task.end", "failing_task", "error"),
        ("task.start", "async_task", None),
        ("task.end", "async_task", "ok"),
    ]
    end = events[1]
    assert end["route"] == "/jobs/{job}" and end["status"] == 200 and end["method"] == "POST"
    assert end["duration"] >= 0
    error = next(e for e in events if e.kind == "task.error")
    assert error["exc_type"] == "ValueError" and error["message"] == "task exploded"
    assert "Traceback" in error["traceback"] and "task exploded" in error["traceback"]
    assert events[2]["queue_depth"] >= 1 and events[2]["route"] == "/jobs/{job}"
    timestamps = [e.timestamp for e in events]
    assert timestamps == sorted(timestamps)
    assert all(isinstance(e, Event) for e in events)


def test_stop_strategy_reports_skipped_tasks() -> None:
    sink = MemorySink()
    with TestClient(three_task_app(sink, background_errors="stop")) as client:
        client.post("/jobs/1", headers={"x-request-id": "r1"})
    outcomes = [(e.data["task"], e.data["outcome"]) for e in sink.of_kind("task.end")]
    assert outcomes == [("ok_task", "ok"), ("failing_task", "error"), ("async_task", "skipped")]


def test_discarded_tasks_are_reported_when_the_handler_raises() -> None:
    sink = MemorySink()
    with TestClient(three_task_app(sink)) as client:
        response = client.post("/raises")
    assert response.status_code == 409
    (discarded,) = sink.of_kind("tasks.discarded")
    assert discarded["count"] == 2 and discarded["tasks"] == ["ok_task", "ok_task"]
    assert not sink.of_kind("task.start")


def test_request_ids_are_generated_when_missing_or_malformed() -> None:
    sink = MemorySink()
    with TestClient(three_task_app(sink)) as client:
        first = client.post("/jobs/1").headers["x-request-id"]
        second = client.post("/jobs/2", headers={"x-request-id": "bad id with spaces"}).headers["x-request-id"]
    assert first and second and first != second and " " not in second
    assert {e.request_id for e in sink.events} == {first, second}


def test_no_ids_and_no_header_without_sinks() -> None:
    app = App()
    app.get("/", lambda: {"ok": True})
    with TestClient(app) as client:
        assert client.get("/").headers.get("x-request-id") is None


def test_request_ids_can_be_forced_on_without_sinks() -> None:
    app = App(request_ids=True)
    app.get("/", lambda: {"ok": True})
    with TestClient(app) as client:
        assert client.get("/", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"


def test_a_failing_sink_is_logged_once_and_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("sink down")

    good = MemorySink()
    app = three_task_app(broken)
    app.add_sink(good)
    with caplog.at_level(logging.ERROR, logger="zigmund_fast"), TestClient(app) as client:
        assert client.post("/jobs/1").status_code == 200
        assert client.post("/jobs/2").status_code == 200
    sink_errors = [r for r in caplog.records if "sink" in r.getMessage()]
    assert len(sink_errors) == 1
    assert len(good.of_kind("task.end")) == 6


def test_object_sinks_with_emit_and_bad_sinks() -> None:
    class Collector:
        def __init__(self) -> None:
            self.kinds: list[str] = []

        def emit(self, event: Event) -> None:
            self.kinds.append(event.kind)

    collector = Collector()
    app = App()
    app.add_sink(collector)
    app.get("/", lambda: 1)
    with TestClient(app) as client:
        client.get("/")
    assert collector.kinds == ["request.start", "request.end"]
    with pytest.raises(TypeError):
        app.add_sink(42)


def test_json_lines_sink_writes_one_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JSONLinesSink(path)
    with TestClient(three_task_app(sink)) as client:
        client.post("/jobs/3", headers={"x-request-id": "j3"})
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines][:3] == ["request.start", "request.end", "task.queued"]
    assert all(line["request_id"] == "j3" for line in lines)
    assert len(lines) == 12


def test_json_lines_match_the_events_python_sinks_get(tmp_path: Path) -> None:
    """The compiled JSON-lines encoder writes exactly what ``Event.to_dict()`` says, escaping included."""
    path = tmp_path / "events.jsonl"
    sink, memory = JSONLinesSink(path), MemorySink()
    app = three_task_app(sink, background_errors="stop")
    app.add_sink(memory)
    app.get("/caf\u00e9/{name}", lambda name: {"name": name})
    with TestClient(app) as client:
        client.post("/jobs/5?x=1&q=%22quoted%22", headers={"user-agent": 'agent "7" \\ \u00ff', "referer": "r\tx\x80"})
        client.get("/caf%C3%A9/a%22b", headers={"x-request-id": "given-1"})
        client.post("/raises")
    sink.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    expected = [event.to_dict() for event in memory.events]
    assert [line["kind"] for line in lines] == [e["kind"] for e in expected]
    assert {"task.error", "tasks.discarded", "request.end", "task.queued"} <= {line["kind"] for line in lines}
    for line, event in zip(lines, expected):
        assert line.keys() == event.keys()
        for key, value in event.items():
            if isinstance(value, float):
                assert line[key] == pytest.approx(value, abs=2e-6), (event["kind"], key)
            else:
                assert line[key] == value, (event["kind"], key)
    end = next(line for line in lines if line["kind"] == "request.end")
    assert end["target"] == '/jobs/5?x=1&q=%22quoted%22' and end["user_agent"] == 'agent "7" \\ \u00ff'
    assert end["referer"] == "r\tx\x80"


def test_json_lines_name_each_task_and_route_with_many_more_than_the_label_cache_holds(tmp_path: Path) -> None:
    """Task lines reuse the encoded task/route of recent (function, route) pairs: with 12 functions on
    2 routes, alternating, every line still names its own task and route (quotes escaped)."""
    path = tmp_path / "events.jsonl"
    sink = JSONLinesSink(path)
    app = App()
    app.add_sink(sink)
    functions = []
    for number in range(12):
        def task(number: int = number) -> None:
            pass
        task.__qualname__ = f'task "{number}"'
        functions.append(task)

    @app.post("/a/{n}")
    @app.post('/b"/{n}')
    async def queue(n: int, tasks: BackgroundTasks) -> None:
        tasks.add(functions[n])

    with TestClient(app) as client:
        for round_ in range(3):
            for number in range(12):
                client.post(f"/a/{number}" if (number + round_) % 2 else f"/b%22/{number}")
    sink.close()
    tasks = [json.loads(line) for line in path.read_text().splitlines() if json.loads(line)["kind"].startswith("task.")]
    assert len(tasks) == 3 * 36
    for round_ in range(3):
        for number in range(12):
            route = "/a/{n}" if (number + round_) % 2 else '/b"/{n}'
            for line in tasks[(round_ * 12 + number) * 3:(round_ * 12 + number + 1) * 3]:
                assert (line["task"], line["route"]) == (f'task "{number}"', route)


@settings(max_examples=300, deadline=None)
@given(
    path=st.text(max_size=40),
    query=st.binary(max_size=20),
    user_agent=st.binary(max_size=30),
    size=st.integers(min_value=0, max_value=2**62),
    started_ago=st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_compiled_encoder_writes_valid_json_for_any_text(
    path: str, query: bytes, user_agent: bytes, size: int, started_ago: float
) -> None:
    """Escaping (runs copied whole, controls, quotes, latin-1 header bytes), integers and fixed-point
    times: whatever a request carries, each line parses back to the values recorded."""
    lines: list[bytes] = []
    log = EventLog(lines.append, 10.0, 10_000)
    observer = ObserverCore()
    observer.logs.append(log)
    observer.enabled = True
    request = Request("GET", path, query, [(b"user-agent", user_agent)], b"", ("10.0.0.1", 5))
    observer.start_request(request)
    started = request.started
    request.started -= started_ago
    request.status, request.response_size = 200, size
    observer.requests_written([request])
    log.flush()
    start, end = (json.loads(line) for line in b"".join(lines).decode("utf-8").split("\n")[:-1])
    assert start["time"] == pytest.approx(started + wall_offset, abs=1e-6)  # monotonic + the process's offset
    assert start["time"] <= end["time"] < start["time"] + 0.5
    assert start["path"] == path
    assert end["target"] == path + ("?" + query.decode("latin-1") if query else "")
    assert end["user_agent"] == user_agent.decode("latin-1")
    assert end["size"] == size
    assert started_ago - 1e-6 <= end["duration"] < started_ago + 0.5  # plus the time this test took
    assert "monotonic" not in end  # time carries it (see Event.to_dict)


@pytest.mark.parametrize("special", ['"', "\\", "\x00", "\x1f", "\x7f", "\x80", "\xe9", "\u20ac", " ", "~"])
def test_compiled_encoder_escapes_a_special_character_wherever_it_falls(special: str) -> None:
    """The escaping scan reads eight bytes at a time: a quote, backslash, control or non-ASCII
    character at every offset of the first three words (and past them) comes back exactly."""
    for length in (1, 7, 8, 9, 16, 23, 24, 25):
        for at in range(length):
            text = "".join(special if index == at else "abcdefgh"[index % 8] for index in range(length))
            raw = text.encode("latin-1", "replace")
            lines: list[bytes] = []
            log = EventLog(lines.append, 10.0, 10_000)
            observer = ObserverCore()
            observer.logs.append(log)
            observer.enabled = True
            request = Request("GET", text, raw, [(b"user-agent", raw)], b"", (text, 5))
            observer.start_request(request)
            request.status = 200
            observer.requests_written([request])
            log.flush()
            start, end = (json.loads(line) for line in b"".join(lines).decode("utf-8").split("\n")[:-1])
            assert start["path"] == text
            assert end["target"] == text + "?" + raw.decode("latin-1")
            assert end["user_agent"] == raw.decode("latin-1")
            assert end["client"] == text


def test_sink_sees_task_events_only_after_the_response_is_written(serve: Any) -> None:
    """Over a real socket: the client has the full response before any task.* event exists."""
    sink = MemorySink()
    release = asyncio.Event()
    app = App()
    app.add_sink(sink)

    async def waits() -> None:
        await release.wait()

    @app.post("/slow-task")
    async def slow_task(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add(waits)
        return {"queued": True}

    server = serve(app)
    from tests.conftest import read_response

    with server.connect() as sock:
        sock.sendall(b"POST /slow-task HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    kinds = server.call(lambda: [e.kind for e in sink.events])
    assert "task.end" not in kinds
    server.call(release.set)
    server.call(lambda: None)
    for _ in range(100):
        if "task.end" in server.call(lambda: [e.kind for e in sink.events]):
            break
        asyncio.run(asyncio.sleep(0.02))
    kinds = server.call(lambda: [e.kind for e in sink.events])
    assert kinds.index("request.end") < kinds.index("task.queued") < kinds.index("task.start") < kinds.index("task.end")


@pytest.mark.parametrize("format_", ["combined", "json"])
def test_access_log_lines(tmp_path: Path, format_: str) -> None:
    from zigmund_fast.observability import AccessLogSink

    path = tmp_path / "access.log"
    sink = AccessLogSink(path, format=format_)
    app = App()
    app.add_sink(sink)
    app.get("/items/{n}", lambda n: {"n": n})
    with TestClient(app) as client:
        client.get("/items/3?x=1", headers={"user-agent": 'agent "7"', "referer": "http://r/"})
        client.get("/missing")
    sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    if format_ == "json":
        first = json.loads(lines[0])
        assert (first["method"], first["target"], first["status"], first["route"]) == ("GET", "/items/3?x=1", 200,
                                                                                      "/items/{n}")
        assert first["size"] == len(b'{"n":"3"}') and first["user_agent"] == 'agent "7"'
        assert json.loads(lines[1])["status"] == 404
    else:
        assert lines[0].startswith("testclient - - [")
        assert '"GET /items/3?x=1 HTTP/1.1" 200 9 "http://r/" "agent \\"7\\""' in lines[0]
        assert '"GET /missing HTTP/1.1" 404' in lines[1]
    with pytest.raises(ValueError):
        AccessLogSink(format="xml")


def test_json_lines_written_straight_to_the_file_fall_back_when_the_fd_fails(tmp_path: Path) -> None:
    """The compiled log writes to the file's descriptor; if that write fails, the lines go through the file
    object instead (here they still land), and after close() nothing is written to a recycled descriptor."""
    path = tmp_path / "events.jsonl"
    sink = JSONLinesSink(path)
    assert sink.log.fd == sink._file.fileno()
    with TestClient(three_task_app(sink)) as client:
        client.post("/jobs/1")
    sink.flush()
    direct = path.read_text().splitlines()
    assert [json.loads(line)["kind"] for line in direct][:2] == ["request.start", "request.end"]
    read_only = os.open(path, os.O_RDONLY)
    try:
        sink.log.fd = read_only  # write(2) fails with EBADF
        with TestClient(three_task_app(sink)) as client:
            client.post("/jobs/2")
        sink.flush()
    finally:
        os.close(read_only)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 * len(direct)
    assert all(json.loads(line)["kind"] for line in lines)
    sink.close()
    assert sink.log.fd == -1



def _resident_pages(path: Path, length: int) -> int:
    """How many pages of the first ``length`` bytes of ``path`` are in the page cache (mmap + mincore)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    pages = (length + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    with open(path, "rb") as file:
        address = libc.mmap(None, length, mmap.PROT_READ, mmap.MAP_SHARED, file.fileno(), 0)
        assert address is not None and address != ctypes.c_void_p(-1).value, ctypes.get_errno()
        try:
            assert libc.mincore(address, length, vector) == 0, ctypes.get_errno()
        finally:
            libc.munmap(address, length)
    return sum(byte & 1 for byte in vector)


def _event(number: int) -> Event:
    return Event("task.start", float(number), f"id-{number}", {"task": "t", "padding": "x" * 900})


WINDOW = 4 * 1024 * 1024  # events.pyx's STREAM_WINDOW


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux-only")
def test_a_file_sink_streams_its_lines_to_disk_and_drops_them_from_the_page_cache(tmp_path: Path) -> None:
    """Every line lands, in order, across many 4 MiB windows; and once the early windows are on disk,
    the later flushes drop them from the page cache (where the file system can drop pages at all)."""
    path = tmp_path / "events.jsonl"
    with open(path, "ab") as file:
        log = EventLog(file.write, 10.0, 64, file.fileno(), True)
        number = 0
        while os.fstat(file.fileno()).st_size < 3 * WINDOW:
            log.add_event(_event(number))
            number += 1
        log.flush()
        os.fsync(file.fileno())  # windows 0-2 are on disk now
        while os.fstat(file.fileno()).st_size < 6 * WINDOW:
            log.add_event(_event(number))
            number += 1
        log.flush()
        assert log.drop_cache  # still on: a regular file supports it
    resident = _resident_pages(path, 2 * WINDOW)  # before reading the file back, which caches it again
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line)["request_id"] for line in lines[:-1]] == [f"id-{n}" for n in range(number)]

    # Can this file system drop clean pages at all (tmpfs cannot)? Ask it directly with a control file.
    control = tmp_path / "control"
    control.write_bytes(b"x" * WINDOW)
    with open(control, "rb") as file:
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, WINDOW, os.POSIX_FADV_DONTNEED)
    if _resident_pages(control, WINDOW) > 0:
        pytest.skip("this file system keeps clean pages cached (tmpfs?)")
    assert resident == 0


def test_a_sink_on_a_pipe_turns_streaming_off_and_loses_nothing() -> None:
    read_end, write_end = os.pipe()
    received = bytearray()
    try:
        os.set_blocking(read_end, False)
        log = EventLog(lambda data: None, 10.0, 8, write_end, True)
        for number in range(8 * 600):  # about 4.4 MB: past one window
            log.add_event(_event(number))
            while True:
                try:
                    chunk = os.read(read_end, 1 << 20)
                except BlockingIOError:
                    break
                received += chunk
        log.flush()
        os.close(write_end)
        write_end = -1
        os.set_blocking(read_end, True)
        while chunk := os.read(read_end, 1 << 20):
            received += chunk
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    assert not log.drop_cache
    lines = bytes(received).split(b"\n")[:-1]
    assert [json.loads(line)["request_id"] for line in lines] == [f"id-{n}" for n in range(8 * 600)]

"""Streamed responses over real sockets: chunked delivery as produced, files with ranges and validators,
server-sent events, flow control, disconnects, pipelining and background tasks behind a stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from zigmund_fast import (
    App,
    BackgroundTasks,
    EventSourceResponse,
    FileResponse,
    ServerSentEvent,
    StreamingResponse,
)

from ..conftest import RawResponse, RunningServer, read_response, recv_until_closed

Serve = Callable[..., RunningServer]

GET_STREAM = b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
FILE_BYTES = bytes(range(256)) * 1024  # 256 KiB: several 64 KiB reads


# Reading responses off a raw socket


class Reader:
    """Reads one response head, then chunked or length-framed body pieces, from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed by the server; unread: {bytes(self.buffer)!r}")
        self.buffer += data

    def head(self) -> RawResponse:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n")
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        headers = [(n.strip().lower(), v.strip()) for n, _, v in (line.partition(":") for line in lines[1:])]
        return RawResponse(int(lines[0].split(" ")[1]), headers, b"")

    def chunk(self) -> bytes:
        """One chunk of a chunked body (b"" for the last chunk)."""
        while b"\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n")
        size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
        while len(self.buffer) < end + 2 + size + 2:
            self._fill()
        data = bytes(self.buffer[end + 2 : end + 2 + size])
        assert self.buffer[end + 2 + size : end + 4 + size] == b"\r\n"
        del self.buffer[: end + 4 + size]
        return data

    def chunked_body(self) -> list[bytes]:
        chunks = []
        while chunk := self.chunk():
            chunks.append(chunk)
        return chunks

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def stream_tasks(server: RunningServer) -> list[asyncio.Task[object]]:
    return server.call(lambda: [t for t in asyncio.all_tasks(server.loop) if t.get_name() == "zigmund-stream"])


# Chunked streaming


def test_each_chunk_reaches_the_client_before_the_next_is_produced(serve: Serve) -> None:
    app = App()
    produce_second = threading.Event()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            while not produce_second.is_set():  # held until the client proves it got the first chunk
                await asyncio.sleep(0.005)
            yield "second"

        return StreamingResponse(chunks(), media_type="text/plain")

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        head = reader.head()
        assert head.status == 200
        assert head.header("transfer-encoding") == "chunked"
        assert head.header("content-length") is None
        assert head.header("content-type") == "text/plain; charset=utf-8"
        assert reader.chunk() == b"first"
        produce_second.set()
        assert reader.chunk() == b"second"
        assert reader.chunk() == b""
        # keep-alive continues after the stream
        sock.sendall(GET_STREAM)
        produce_second.set()
        assert Reader(sock).head().status == 200


def test_a_sync_generator_runs_off_the_loop_and_streams(serve: Serve) -> None:
    app = App()
    threads: list[str] = []
    other_answered = threading.Event()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for index in range(3):
                threads.append(threading.current_thread().name)
                if index == 1:
                    # Blocks until another request was answered: on the loop, that would never happen.
                    other_answered.wait(5)
                yield b"%d" % index

        return StreamingResponse(chunks())

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    server = serve(app)
    with server.connect() as streaming, server.connect() as other:
        streaming.sendall(GET_STREAM)
        reader = Reader(streaming)
        assert reader.head().status == 200
        assert reader.chunk() == b"0"
        started = time.monotonic()
        other.sendall(GET_HELLO)
        assert read_response(other).status == 200
        other_answered.set()
        assert time.monotonic() - started < 2
        assert reader.chunked_body() == [b"1", b"2"]
    assert all(name.startswith("zigmund-stream") for name in threads)


def test_http10_client_gets_a_close_delimited_body(serve: Serve) -> None:
    app = App()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"abc", b"", b"def"]))

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        raw = recv_until_closed(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert b"connection: close" in head.lower()
    assert body == b"abcdef"


def test_head_of_a_stream_sends_the_head_only_and_closes_the_iterator(serve: Serve) -> None:
    app = App()
    started = threading.Event()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            started.set()
            yield b"never sent"

        return StreamingResponse(chunks())

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n" + GET_HELLO)
        reader = Reader(sock)
        head = reader.head()
        assert head.status == 200
        assert head.header("transfer-encoding") == "chunked"
        assert reader.head().status == 404  # the next response follows directly: no body was sent
    assert not started.is_set()


def test_pipelined_requests_wait_behind_a_stream_and_keep_alive_continues(serve: Serve) -> None:
    app = App()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for index in range(5):
                await asyncio.sleep(0.01)
                yield b"part%d " % index

        return StreamingResponse(chunks())

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET_STREAM + GET_HELLO + GET_STREAM)
        reader = Reader(sock)
        assert reader.head().status == 200
        assert b"".join(reader.chunked_body()) == b"part0 part1 part2 part3 part4 "
        hello = reader.head()
        assert hello.status == 200
        assert reader.exactly(int(hello.header("content-length") or 0)) == b'{"hello":"world"}'
        assert reader.head().status == 200
        assert len(reader.chunked_body()) == 5
        sock.sendall(GET_HELLO)
        assert reader.head().status == 200


def test_background_tasks_run_once_after_the_last_chunk(serve: Serve) -> None:
    app = App()
    events: list[str] = []
    last_chunk_sent = threading.Event()

    def record() -> None:
        events.append("task")

    @app.get("/stream")
    async def stream(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add(record)

        async def chunks() -> AsyncIterator[bytes]:
            for index in range(3):
                events.append(f"chunk{index}")
                yield b"x"
                await asyncio.sleep(0.02)
            last_chunk_sent.set()

        return StreamingResponse(chunks())

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        reader.head()
        assert reader.chunk() == b"x"
        assert "task" not in events
        assert reader.chunked_body() == [b"x", b"x"]
    assert wait_for(lambda: events.count("task") == 1)
    time.sleep(0.1)
    assert events == ["chunk0", "chunk1", "chunk2", "task"]


def test_client_disconnect_closes_the_generator_without_errors(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    closed = threading.Event()
    task_ran = threading.Event()

    @app.get("/stream")
    async def stream(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add(task_ran.set)

        async def forever() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick"
                    await asyncio.sleep(0.01)
            finally:
                closed.set()

        return StreamingResponse(forever())

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    server = serve(app)
    with caplog.at_level(logging.WARNING):
        sock = server.connect()
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        reader.head()
        assert reader.chunk() == b"tick"
        sock.close()
        assert closed.wait(5), "the generator's finally did not run"
        assert wait_for(lambda: not stream_tasks(server)), "the stream task is still alive"
        assert task_ran.wait(5)  # the request's tasks still run, as for any response the client left
        with server.connect() as other:
            other.sendall(GET_HELLO)
            assert read_response(other).status == 200
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_sync_generator_is_closed_when_the_client_disconnects(serve: Serve) -> None:
    app = App()
    closed = threading.Event()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        def forever() -> Iterator[bytes]:
            try:
                while True:
                    time.sleep(0.005)
                    yield b"tick"
            finally:
                closed.set()

        return StreamingResponse(forever())

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        reader.head()
        assert reader.chunk() == b"tick"
    assert closed.wait(5)


def test_a_generator_that_raises_mid_stream_cuts_the_connection(
    serve: Serve, caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    task_ran = threading.Event()

    @app.get("/stream")
    async def stream(tasks: BackgroundTasks) -> StreamingResponse:
        tasks.add(task_ran.set)

        async def broken() -> AsyncIterator[bytes]:
            yield b"good"
            raise ValueError("the database went away")

        return StreamingResponse(broken())

    server = serve(app)
    with caplog.at_level(logging.ERROR), server.connect() as sock:
        sock.sendall(GET_STREAM + GET_HELLO)
        raw = recv_until_closed(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b"4\r\ngood\r\n"  # no terminating chunk: the client knows the body is cut short
    assert any("the database went away" in (r.exc_text or "") or
               (r.exc_info and "the database went away" in str(r.exc_info[1])) for r in caplog.records)
    time.sleep(0.1)
    assert not task_ran.is_set()


def test_a_stream_waits_while_the_client_does_not_read(serve: Serve) -> None:
    app = App()
    produced: list[int] = []
    chunk = b"x" * (1 << 20)
    total = 200

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def big() -> AsyncIterator[bytes]:
            for index in range(total):
                produced.append(index)
                yield chunk

        return StreamingResponse(big())

    server = serve(app)
    with server.connect(timeout=10) as sock:
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        reader.head()
        time.sleep(0.5)  # not reading: the transport fills up and the stream must pause
        stalled_at = len(produced)
        time.sleep(0.3)
        assert len(produced) == stalled_at
        assert stalled_at < 64, f"{stalled_at} MiB produced for a client that reads nothing"
        received = 0
        while piece := reader.chunk():
            received += len(piece)
    assert received == total * len(chunk)


# Files


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(FILE_BYTES)
    return path


def file_app(path: Path, **options: object) -> App:
    app = App()

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(path, **options)  # type: ignore[arg-type]

    @app.get("/missing")
    async def missing() -> FileResponse:
        return FileResponse(path.parent / "nope.txt")

    return app


def get_file(server: RunningServer, *headers: str, method: str = "GET", path: str = "/file") -> tuple[RawResponse, bytes]:
    request = f"{method} {path} HTTP/1.1\r\nHost: t\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    with server.connect() as sock:
        sock.sendall(request.encode("latin-1"))
        reader = Reader(sock)
        head = reader.head()
        length = int(head.header("content-length") or 0)
        body = b"" if method == "HEAD" else reader.exactly(length)
        return head, body


def test_file_is_sent_with_length_validators_and_accept_ranges(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file, filename="résumé data.bin"))
    head, body = get_file(server)
    assert head.status == 200
    assert body == FILE_BYTES
    assert head.header("content-length") == str(len(FILE_BYTES))
    assert head.header("transfer-encoding") is None
    assert head.header("accept-ranges") == "bytes"
    assert head.header("content-type") == "application/octet-stream"
    assert head.header("etag", ).startswith('"')  # type: ignore[union-attr]
    stat = data_file.stat()
    assert head.header("last-modified") == time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(stat.st_mtime))
    assert head.header("content-disposition") == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20data.bin"


def test_file_head_sends_headers_only(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    with server.connect() as sock:
        sock.sendall(b"HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n" + b"GET /missing-route HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = Reader(sock)
        head = reader.head()
        assert head.status == 200
        assert head.header("content-length") == str(len(FILE_BYTES))
        assert reader.head().status == 404  # nothing between the two heads


def test_single_range(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    head, body = get_file(server, "Range: bytes=100-65635")
    assert head.status == 206
    assert head.header("content-range") == f"bytes 100-65635/{len(FILE_BYTES)}"
    assert body == FILE_BYTES[100:65636]
    head, body = get_file(server, "Range: bytes=-10")
    assert head.status == 206
    assert body == FILE_BYTES[-10:]
    head, body = get_file(server, "Range: bytes=262000-")
    assert body == FILE_BYTES[262000:]
    assert head.header("content-range") == f"bytes 262000-{len(FILE_BYTES) - 1}/{len(FILE_BYTES)}"


def test_multiple_ranges_are_sent_as_multipart_byteranges(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    head, body = get_file(server, "Range: bytes=0-9, 20-29, 25-39, 1000-")
    assert head.status == 206
    content_type = head.header("content-type") or ""
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    decoded = []
    for part in parts[1:-1]:
        part_head, _, data = part.partition(b"\r\n\r\n")
        assert data.endswith(b"\r\n")
        decoded.append((part_head.decode(), data[:-2]))
    size = len(FILE_BYTES)
    assert [d for _, d in decoded] == [FILE_BYTES[0:10], FILE_BYTES[20:40], FILE_BYTES[1000:]]  # 20-29 and 25-39 merged
    assert f"content-range: bytes 20-39/{size}" in decoded[1][0]
    assert "content-type: application/octet-stream" in decoded[0][0]


def test_unsatisfiable_range_is_416_with_the_size(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    head, body = get_file(server, f"Range: bytes={len(FILE_BYTES)}-")
    assert head.status == 416
    assert head.header("content-range") == f"bytes */{len(FILE_BYTES)}"
    assert body == b""


def test_malformed_or_foreign_unit_range_is_ignored(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    for header in ("Range: bytes=abc", "Range: items=0-5", "Range: bytes=9-3"):
        head, body = get_file(server, header)
        assert head.status == 200, header
        assert body == FILE_BYTES


def test_if_range_uses_the_range_only_while_the_validator_matches(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    head, _ = get_file(server)
    etag, last_modified = head.header("etag"), head.header("last-modified")
    assert get_file(server, "Range: bytes=0-1", f"If-Range: {etag}")[0].status == 206
    assert get_file(server, "Range: bytes=0-1", f"If-Range: {last_modified}")[0].status == 206
    stale = get_file(server, "Range: bytes=0-1", 'If-Range: "something-else"')
    assert stale[0].status == 200 and stale[1] == FILE_BYTES
    assert get_file(server, "Range: bytes=0-1", f"If-Range: W/{etag}")[0].status == 200


def test_conditional_get_answers_304(serve: Serve, data_file: Path) -> None:
    server = serve(file_app(data_file))
    head, _ = get_file(server)
    etag = head.header("etag")
    not_modified, body = get_file(server, f"If-None-Match: {etag}")
    assert not_modified.status == 304
    assert body == b""
    assert not_modified.header("etag") == etag
    assert not_modified.header("content-length") is None
    assert get_file(server, 'If-None-Match: "other"')[0].status == 200
    assert get_file(server, f"If-Modified-Since: {head.header('last-modified')}")[0].status == 304
    assert get_file(server, "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT")[0].status == 200


def test_missing_file_is_a_500_and_the_connection_goes_on(serve: Serve, data_file: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    server = serve(file_app(data_file))
    with caplog.at_level(logging.ERROR), server.connect() as sock:
        sock.sendall(b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\nGET /file HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = Reader(sock)
        error = reader.head()
        assert error.status == 500
        assert reader.exactly(int(error.header("content-length") or 0)) == b'{"detail":"Internal Server Error"}'
        assert reader.head().status == 200
    assert any("does not exist" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_file_larger_than_the_write_buffer_arrives_whole(serve: Serve, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    big = os.urandom(5 << 20)
    path.write_bytes(big)
    server = serve(file_app(path))
    head, body = get_file(server)
    assert head.status == 200
    assert body == big


# Server-sent events


def test_event_source_response_from_a_generator_handler(serve: Serve) -> None:
    app = App()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[object]:
        yield {"n": 1}
        yield "plain"
        yield ServerSentEvent(data={"ok": True}, event="status", id="7", retry=1500)
        yield ServerSentEvent(raw_data="line one\nline two", comment="note")

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = Reader(sock)
        head = reader.head()
        body = b"".join(reader.chunked_body())
    assert head.header("content-type") == "text/event-stream; charset=utf-8"
    assert head.header("cache-control") == "no-cache"
    assert head.header("x-accel-buffering") == "no"
    assert body == (
        b'data: {"n":1}\n\n'
        b'data: "plain"\n\n'
        b'event: status\ndata: {"ok":true}\nid: 7\nretry: 1500\n\n'
        b": note\ndata: line one\ndata: line two\n\n"
    )


def test_event_stream_sends_keep_alive_comments_while_idle(serve: Serve) -> None:
    app = App()
    release = threading.Event()

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def slow() -> AsyncIterator[ServerSentEvent]:
            while not release.is_set():
                await asyncio.sleep(0.01)
            yield ServerSentEvent(data=1)

        return EventSourceResponse(slow(), ping_interval=0.05)

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        reader = Reader(sock)
        reader.head()
        assert reader.chunk() == b": ping\n\n"
        assert reader.chunk() == b": ping\n\n"
        release.set()
        chunks = reader.chunked_body()
    assert chunks[-1] == b"data: 1\n\n"
    assert set(chunks[:-1]) <= {b": ping\n\n"}


def test_yield_dependency_cleanup_runs_after_the_stream_also_when_it_fails(serve: Serve) -> None:
    from zigmund_fast.params import Depends

    app = App()
    events: list[str] = []

    async def session() -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "db"
        finally:
            events.append("close")

    @app.get("/stream")
    async def stream(db: str = Depends(session)) -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            events.append("row")
            yield b"row"

        return StreamingResponse(rows())

    @app.get("/broken")
    async def broken(db: str = Depends(session)) -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            yield b"row"
            raise ValueError("lost the cursor")

        return StreamingResponse(rows())

    server = serve(app)
    with server.connect() as sock:
        sock.sendall(GET_STREAM)
        reader = Reader(sock)
        reader.head()
        assert reader.chunked_body() == [b"row"]
    assert wait_for(lambda: events == ["open", "row", "close"]), events
    events.clear()
    with server.connect() as sock:
        sock.sendall(b"GET /broken HTTP/1.1\r\nHost: t\r\n\r\n")
        recv_until_closed(sock)
    assert wait_for(lambda: events == ["open", "close"]), events

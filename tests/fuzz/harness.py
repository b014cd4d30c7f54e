"""Drive the compiled ``HTTPProtocol`` over an in-memory transport, and check what it did.

The transport behaves as uvloop's does where the protocol can tell: ``close()``
calls ``connection_lost`` on a later loop iteration, a paused transport
delivers nothing (not even EOF) until resumed, a small write buffer can make it
call ``pause_writing``/``resume_writing``, ``write_eof`` is offered or not, what
is written after ``close()`` is dropped silently, and a write after
``write_eof()`` raises ``RuntimeError`` (and is recorded as a defect).

The timeout sweep is the server's own (``Server._sweep``) run with a clock
moved forward, so it applies whatever timeouts the server has.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from typing import Any

from zigmund_fast._impl import HTTPProtocol
from zigmund_fast.background import TaskRunner
from zigmund_fast.server import server as server_module
from zigmund_fast.server.config import Config
from zigmund_fast.server.server import Server, ServerState

from .fuzz_app import BIG_BODY, STREAM_BODY, TASK_BODY, Dispatched, FuzzApp
from .strategies import BODY_LIMIT, HEAD_LIMIT, Delivery, RequestStream
from .wire_check import FramingError, WireResponse, final_responses, parse_responses

CLIENT_PORT = 50000
# Loop time one example may take before it counts as a hang.
HANG_SECONDS = 5.0


class ProtocolDefect(AssertionError):
    """The protocol did something a correct HTTP/1.1 server never does."""


@dataclasses.dataclass
class TransportOptions:
    can_write_eof: bool = True
    high_water: int | None = None  # bytes the "client" leaves unread before the transport pauses writing


class FuzzTransport(asyncio.Transport):
    """In-memory, with uvloop's behaviour where the protocol can tell the difference."""

    def __init__(self, loop: asyncio.AbstractEventLoop, options: TransportOptions) -> None:
        super().__init__()
        self.loop = loop
        self.options = options
        self.protocol: Any = None
        self.written = bytearray()
        self.closed = False  # close() was called (by the protocol or by us)
        self.closed_by_server = False
        self.lost = False  # connection_lost was delivered
        self.eof_written = False
        self.reading_paused = False
        self.writing_paused = False
        self.unread = 0
        self.dropped = 0
        self.defects: list[str] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed:
            self.dropped += len(data)  # uvloop drops what is written after close(), silently
            return
        if self.eof_written:
            # NOTE: as uvloop does: the exception reaches the protocol (or the loop's handler).
            self.defects.append(f"write after write_eof: {bytes(data)[:60]!r}")
            raise RuntimeError("Cannot call write() after write_eof()")
        self.written += data
        high_water = self.options.high_water
        if high_water is not None:
            self.unread += len(data)
            if self.unread > high_water and not self.writing_paused:
                self.writing_paused = True
                self.protocol.pause_writing()
                self.loop.call_soon(self._client_reads)

    def _client_reads(self) -> None:
        self.unread = 0
        if self.writing_paused and not self.lost:
            self.writing_paused = False
            self.protocol.resume_writing()

    def write_eof(self) -> None:
        if not self.options.can_write_eof:
            self.defects.append("write_eof although can_write_eof() is False")
        self.eof_written = True

    def can_write_eof(self) -> bool:
        return self.options.can_write_eof

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.closed_by_server = not self.lost
            self.loop.call_soon(self._lose, None)

    def abort(self) -> None:
        self.close()

    def _lose(self, exc: BaseException | None) -> None:
        if not self.lost:
            self.lost = True
            self.protocol.connection_lost(exc)

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading_paused = True

    def resume_reading(self) -> None:
        self.reading_paused = False

    def is_reading(self) -> bool:
        return not self.reading_paused

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return ("127.0.0.1", CLIENT_PORT)
        return default


class LoopErrors(logging.Handler):
    """Collects errors the loop reports (exceptions in callbacks) and the protocol's own bug-guard logs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclasses.dataclass
class Outcome:
    """What one fuzzed connection produced."""

    written: bytes
    responses: list[WireResponse]
    dispatched: list[Dispatched]
    tasks_run: list[str]
    closed_by_server: bool
    truncated: bool  # the bytes end inside a response


class ProtocolHarness:
    """One app and one loop; ``run(stream_bytes, delivery)`` plays one connection and checks it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, end_lingering: bool = True) -> None:
        self.loop = loop
        self.end_lingering = end_lingering
        self.lingered_after_eof = 0
        self.app = FuzzApp()
        self.errors = LoopErrors()
        self.generation = 0
        self.runner_idle: Any = lambda: True
        self.transport = FuzzTransport(loop, TransportOptions())
        loop.set_exception_handler(self._loop_exception)
        logging.getLogger("zigmund_fast.server").addHandler(self.errors)
        # NOTE: /boom's 500s log a traceback each; thousands of them would bury a real failure.
        self._app_logger = logging.getLogger("zigmund_fast.app")
        self._app_log_level = self._app_logger.level
        self._app_logger.setLevel(logging.CRITICAL)

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.messages.append(f"loop: {context.get('message')}: {context.get('exception')!r}")

    def close(self) -> None:
        logging.getLogger("zigmund_fast.server").removeHandler(self.errors)
        self._app_logger.setLevel(self._app_log_level)
        executor = self.app._executor
        if executor is not None:
            executor.shutdown(wait=True)
            self.app._executor = None

    def run(self, delivery: Delivery, options: TransportOptions, *, max_pending: int = 0,
            limit_pipeline: int = 32) -> Outcome:
        self.app.reset()
        self.errors.messages.clear()
        try:
            return self.loop.run_until_complete(asyncio.wait_for(
                self._play(delivery, options, max_pending, limit_pipeline), HANG_SECONDS,
            ))
        except TimeoutError:
            transport = self.transport
            raise ProtocolDefect(
                f"hang: the connection did not end within {HANG_SECONDS} s (ending {delivery.ending!r}; the server "
                f"closed it: {transport.closed_by_server}, reading paused={transport.reading_paused}, writing paused="
                f"{transport.writing_paused}; handlers in flight={self.app.in_flight}; written "
                f"{bytes(transport.written[:120])!r})"
            ) from None

    async def _play(self, delivery: Delivery, options: TransportOptions, max_pending: int,
                    limit_pipeline: int) -> Outcome:
        loop = self.loop
        config = Config(app=self.app, limit_request_head=HEAD_LIMIT, limit_request_body=BODY_LIMIT,
                        limit_pipeline=limit_pipeline)
        server = Server(config)
        runner = TaskRunner(loop, max_pending=max_pending, on_pressure=server._on_task_pressure,
                            observer=self.app.observer)
        state = ServerState(config, loop, runner)
        server.state, server.runner = state, runner
        self.generation += 1
        state.app_call = self._guarded_dispatch(self.generation)
        self.transport = transport = FuzzTransport(loop, options)
        protocol = HTTPProtocol(state)
        transport.protocol = protocol
        try:
            self.runner_idle = lambda: bool(runner.idle)
            await self._deliver(protocol, transport, server, delivery)
        finally:
            # NOTE: also after a failure, so that nothing of this connection runs during the next example.
            if not transport.lost:
                transport.closed = True
                transport._lose(ConnectionResetError("fuzz: harness cleanup"))
            while self.app.in_flight:
                await asyncio.sleep(0.001)
            await _settle()
            await runner.wait_idle()
            await _settle()
            await runner.wait_idle()
            runner.close()
        if state.connections:
            raise ProtocolDefect(f"connection still registered after connection_lost: {state.connections!r}")
        if transport.defects:
            raise ProtocolDefect("; ".join(transport.defects))
        if self.errors.messages:
            raise ProtocolDefect("errors logged by the loop or the protocol: " + " | ".join(self.errors.messages))
        dispatched = self.app.dispatched.get(CLIENT_PORT, [])
        written = bytes(transport.written)
        responses, truncated = parse_responses(written, lambda n: n < len(dispatched) and dispatched[n].method == "HEAD")
        return Outcome(written, responses, dispatched, list(self.app.tasks_run), transport.closed_by_server, truncated)

    def _guarded_dispatch(self, generation: int) -> Any:
        dispatch = self.app.dispatch

        def guarded(request: Any) -> Any:
            if generation != self.generation:
                self.errors.messages.append(f"a connection of an earlier example dispatched {request!r}")
            return dispatch(request)

        return guarded

    async def _deliver(self, protocol: Any, transport: FuzzTransport, server: Server,
                       delivery: Delivery) -> None:
        state = server.state
        assert state is not None
        protocol.connection_made(transport)
        for index, chunk in enumerate(delivery.chunks):
            if delivery.ending == "abort-now" and index == len(delivery.chunks) - 1:
                break
            if index == delivery.sweep_at:
                sweep_later(server)
            if index == delivery.drain_at:
                state.draining = True
                for connection in list(state.connections):
                    connection.start_draining()
            if not await _until_readable(transport):
                break
            protocol.data_received(chunk)
            if delivery.settle_after[index]:
                await _settle()
        if delivery.ending == "eof":
            if await _until_readable(transport) and not protocol.eof_received():
                transport.close()  # what a transport does when eof_received() returns a false value
        elif delivery.ending == "idle":
            # The client sends nothing more and keeps the connection: once the work is done,
            # the timeout sweep (as if a long time passed) must end it, or answer 408 and linger.
            await self._quiet(protocol, transport)
            if not transport.closed:
                sweep_later(server)
            if transport.eof_written and not transport.closed:
                protocol.eof_received()  # the client read the 408 and hangs up, as clients do
        elif not transport.lost:
            if delivery.ending == "abort":
                await _settle()
            transport.closed = True
            transport._lose(ConnectionResetError("fuzz: peer reset"))
        while not transport.lost:
            if self.end_lingering and delivery.ending == "eof" and transport.eof_written and not transport.closed:
                # NOTE: the protocol lingers up to 2 s after an error response even when the peer
                # has already sent its EOF (nothing more can arrive; see test_fuzz_findings). The
                # client would just wait; end it at once, or the fuzz spends most of its time here.
                await _settle()
                if transport.eof_written and not transport.closed:
                    self.lingered_after_eof += 1
                    transport.close()
            await asyncio.sleep(0.001)

    async def _quiet(self, protocol: Any, transport: FuzzTransport) -> None:
        """Until the connection has nothing left to do, or (a request stuck mid-message) stops changing."""
        written = -1
        still_since = time.monotonic()
        while True:
            await _settle()
            busy = self.app.in_flight or not self.runner_idle()
            if not busy and (protocol.idle or transport.closed):
                return
            if len(transport.written) != written or busy:
                written, still_since = len(transport.written), time.monotonic()
            elif time.monotonic() - still_since > 0.02:
                return


class _ShiftedClock:
    """The ``time`` module, except that ``monotonic()`` is ``shift`` seconds ahead."""

    def __init__(self, real: Any, shift: float) -> None:
        self._real = real
        self._shift = shift

    def monotonic(self) -> float:
        return float(self._real.monotonic()) + self._shift

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def sweep_later(server: Server, seconds: float = 1000.0) -> None:
    """Run the server's own timeout sweep as if ``seconds`` had passed since now.

    NOTE: through ``Server._sweep`` rather than ``check_timeouts`` directly, so that the
    harness applies whichever timeouts (and arguments) the server does.
    """
    real = server_module.time
    server_module.time = _ShiftedClock(real, seconds)  # type: ignore[assignment]
    try:
        server._sweep()
    finally:
        server_module.time = real
        if server._sweeper is not None:
            server._sweeper.cancel()
            server._sweeper = None


async def _settle() -> None:
    """Let handlers that suspended, thread-pool handlers and background tasks make progress."""
    for _ in range(3):
        await asyncio.sleep(0)
    await asyncio.sleep(0.0005)


async def _until_readable(transport: FuzzTransport) -> bool:
    """A paused transport delivers nothing; wait until reading resumes (the hang check bounds this)."""
    while transport.reading_paused and not transport.closed:
        await asyncio.sleep(0.0005)
    return not transport.closed


PROTOCOL_ERRORS = {400, 408, 413, 414, 417, 431, 501}  # 501: a transfer coding other than chunked


def check_outcome(outcome: Outcome, stream: RequestStream | None, delivery: Delivery) -> None:
    """Every invariant of one connection; raises ``ProtocolDefect``/``FramingError`` with the details."""
    finals = final_responses(outcome.responses)
    dispatched = outcome.dispatched
    # Every response was written: the client half-closed, or waited for the server to end it...
    all_written = delivery.ending in ("eof", "idle")
    cut = len(finals) < len(dispatched) and dispatched[len(finals)].streamed
    if cut and delivery.ending != "idle":
        # ...except a streamed response: a client's EOF (or reset) stops the stream, by design
        # (a hang-up is only noticed as EOF), and nothing after it is answered.
        all_written = False
    elif outcome.truncated:
        raise FramingError(f"the bytes end inside response {len(finals)} "
                           f"({'to ' + dispatched[len(finals)].path if len(finals) < len(dispatched) else 'extra'})")
    # Each dispatched request is answered in order; at most one protocol error follows, and only at the end.
    if len(finals) > len(dispatched) + 1:
        raise ProtocolDefect(f"{len(finals)} responses for {len(dispatched)} dispatched requests")
    if len(finals) == len(dispatched) + 1:
        last = finals[-1]
        if last.status not in PROTOCOL_ERRORS or not last.closes:
            raise ProtocolDefect(f"an extra response that is not a protocol error with close: {last.status}")
    if all_written and delivery.sweep_at is None and delivery.drain_at is None and len(finals) < len(dispatched):
        raise ProtocolDefect(f"only {len(finals)} responses for {len(dispatched)} dispatched requests after EOF")
    for index, (request, response) in enumerate(zip(dispatched, finals)):
        last = index == len(finals) - 1
        # A close-delimited (HTTP/1.0) stream cut short looks complete: only its body tells.
        _check_answer(index, request, response, last, maybe_cut=last and delivery.ending != "idle")
    server_closed_on_its_own = (
        outcome.closed_by_server and not all_written and not cut
        and delivery.sweep_at is None and delivery.drain_at is None
    )
    if server_closed_on_its_own and (not finals or not finals[-1].closes):
        raise ProtocolDefect("the server closed the connection without a last response saying connection: close")
    _check_tasks(outcome, finals, all_written)
    if stream is not None:
        _check_clean_requests(outcome, stream, delivery, all_written)


def _check_answer(index: int, request: Dispatched, response: WireResponse, last: bool, maybe_cut: bool) -> None:
    where = f"response {index} ({response.status}) to {request.method} {request.path}?{request.query!r}"
    if request.echoes_id and response.header(b"x-id") != (request.ident or "").encode():
        raise ProtocolDefect(f"{where}: x-id {response.header(b'x-id')!r}, expected {request.ident!r} "
                             "(responses out of order?)")
    if not request.echoes_id and response.header(b"x-id") is not None:
        raise ProtocolDefect(f"{where}: carries x-id {response.header(b'x-id')!r} of another request")
    if not request.keep_alive and not (response.closes and last):
        raise ProtocolDefect(f"{where}: the request did not keep the connection alive, yet the response "
                             f"{'does not say close' if not response.closes else 'is not the last'}")
    if request.method == "HEAD":
        return
    if request.echoes_id and request.path == "/echo" and response.body != request.body:
        raise ProtocolDefect(f"{where}: echoed {len(response.body)} bytes, the request had {len(request.body)}")
    expected = {"/big": BIG_BODY, "/stream": STREAM_BODY, "/task": TASK_BODY}.get(request.path)
    if maybe_cut and request.streamed and expected is not None and expected.startswith(response.body):
        return  # a close-delimited (HTTP/1.0) stream the client's EOF cut short
    if request.echoes_id and response.status == 200 and expected is not None and response.body != expected:
        raise ProtocolDefect(f"{where}: body {response.body[:60]!r} ({len(response.body)} bytes), "
                             f"expected {expected[:60]!r} ({len(expected)} bytes)")


def _check_tasks(outcome: Outcome, finals: list[WireResponse], all_written: bool) -> None:
    """Counted per id (arbitrary input may repeat one): answered 2xx <= tasks run <= tasks queued."""
    runs = Counter(outcome.tasks_run)
    queued: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    for index, request in enumerate(outcome.dispatched):
        if request.path != "/task" or request.method not in ("GET", "HEAD", "POST"):
            continue
        ident = request.ident or ""
        if b"fail=1" in request.query:
            continue  # the handler raises after queueing: its task must not run
        queued[ident] += 1
        if index < len(finals) and 200 <= finals[index].status < 300:
            answered[ident] += 1
    for ident in set(runs) | set(queued):
        if runs[ident] < answered[ident]:
            raise ProtocolDefect(f"{answered[ident]} 2xx response(s) to /task?id={ident} but its task ran "
                                 f"{runs[ident]} time(s)")
        if runs[ident] > queued[ident]:
            raise ProtocolDefect(f"the task of /task?id={ident} ran {runs[ident]} time(s), queued "
                                 f"{queued[ident]} time(s) by handlers that did not raise")
        if all_written and runs[ident] != answered[ident]:
            # Every response was written (nothing was lost), so a task ran iff its response was sent.
            raise ProtocolDefect(f"after EOF, the task of /task?id={ident} ran {runs[ident]} time(s) for "
                                 f"{answered[ident]} 2xx response(s)")


def _check_clean_requests(outcome: Outcome, stream: RequestStream, delivery: Delivery, all_written: bool) -> None:
    by_ident = {request.ident: request for request in stream.requests}
    for seen in outcome.dispatched:
        sent = by_ident.get(seen.ident or "")
        if sent is None or not sent.clean or sent.raw is not None:
            continue
        if (seen.method.encode(), seen.path, seen.body, seen.http_version) != (
            sent.method, sent.path, sent.body, sent.version[5:].decode()
        ):
            raise ProtocolDefect(
                f"request {sent.ident} reached the app as {seen.method} {seen.path} body={seen.body[:40]!r} "
                f"HTTP/{seen.http_version}; sent {sent.method!r} {sent.path} body={sent.body[:40]!r} {sent.version!r}"
            )
    if not all_written or delivery.sweep_at is not None or delivery.drain_at is not None:
        return
    expected = [request.ident for request in stream.clean_prefix()]
    got = [seen.ident for seen in outcome.dispatched[: len(expected)]]
    if got != expected:
        status = [response.status for response in final_responses(outcome.responses)]
        raise ProtocolDefect(f"clean requests {expected} reached the app as {got} (statuses {status})")


__all__ = ["FramingError", "ProtocolDefect", "ProtocolHarness", "TransportOptions", "check_outcome"]

"""Minimal reproductions of what the fuzzer found, one test each, in-process and deterministic.

Each is written from the shrunk failing example: the bytes, how they arrive,
and what the protocol must do instead of what it did.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import uvloop

from .harness import ProtocolHarness, TransportOptions, check_outcome
from .strategies import Delivery

# A handler that suspends, then, in the same read, a request line that cannot be parsed.
SLOW_THEN_UNPARSEABLE = b"GET /slow?id=c0 HTTP/1.1\r\nHost: a\r\n\r\nBAD\r\n\r\n"


@pytest.fixture
def harness() -> Iterator[ProtocolHarness]:
    loop = uvloop.new_event_loop()
    harness = ProtocolHarness(loop, end_lingering=False)
    yield harness
    harness.close()
    loop.close()


def test_eof_while_a_parse_error_waits_behind_a_suspended_handler(harness: ProtocolHarness) -> None:
    # Found by the fuzzer: eof_received() sets keep_alive on the last pipelined item,
    # which here is the ParseFailure placeholder (no such attribute): AttributeError
    # escaped eof_received. The client must get the 200, then the 400, then the close.
    delivery = Delivery([SLOW_THEN_UNPARSEABLE], [False], "eof", None, None)
    outcome = harness.run(delivery, TransportOptions(can_write_eof=True))
    check_outcome(outcome, None, delivery)
    assert [response.status for response in outcome.responses] == [200, 400]
    assert outcome.responses[-1].closes


# A pipelined GET, then a POST that asks for 100-continue (which must wait for the GET's answer)
# and whose chunked body is broken: the 400 closes the connection with the 100 still pending.
GET_THEN_EXPECT_WITH_BAD_CHUNK = (
    b"GET /hello?id=c0 HTTP/1.1\r\nHost: a\r\n\r\n"
    b"POST /echo?id=c1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\nzz\r\n"
)


def test_no_100_continue_after_a_parse_error_closed_the_connection(harness: ProtocolHarness) -> None:
    # Found by the fuzzer: the 200 fills the transport's buffer (pause_writing); the bad
    # chunk size gives a 400, write_eof() and linger; then resume_writing() runs the pipeline
    # again and writes the pending "100 Continue" after write_eof(), which uvloop answers with
    # RuntimeError("Cannot call write() after write_eof()") out of resume_writing(). (Had the
    # client hung up first, the 100 would go after close(), which uvloop drops silently.)
    # The client here waits for its answers ("idle"), as real ones do.
    delivery = Delivery([GET_THEN_EXPECT_WITH_BAD_CHUNK], [False], "idle", None, None)
    outcome = harness.run(delivery, TransportOptions(can_write_eof=True, high_water=64))
    check_outcome(outcome, None, delivery)
    assert [response.status for response in outcome.responses] == [200, 400]


# A complete head that announces 10 body bytes, then 3 of them, then nothing.
POST_BODY_STALLS = b"POST /echo?id=c0 HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"
# The same with a chunked body that stops inside a chunk.
POST_CHUNK_STALLS = b"POST /echo?id=c0 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"


@pytest.mark.parametrize("data", [POST_BODY_STALLS, POST_CHUNK_STALLS], ids=["content-length", "chunked"])
def test_a_client_that_stalls_mid_body_is_cut_off(harness: ProtocolHarness, data: bytes) -> None:
    # Found by the fuzzer ("idle" ending): check_timeouts() only times out a head
    # (in_message and not headers_done) or an idle keep-alive connection (not
    # in_message); a body that stops arriving is never timed out, so the connection
    # (and its buffered body) is held forever. Expected: the server's sweep, long
    # after the last byte, answers 408 and closes, as it does for a stalled head.
    delivery = Delivery([data], [True], "idle", None, None)
    outcome = harness.run(delivery, TransportOptions(can_write_eof=True))
    check_outcome(outcome, None, delivery)
    assert [response.status for response in outcome.responses] == [408]


def test_an_error_response_after_the_peers_eof_closes_at_once(harness: ProtocolHarness) -> None:
    # Found by the fuzzer (as examples that took 2 s): the 400 for the bytes behind a
    # suspended handler is written after the client's EOF, and _fail() half-closes and
    # lingers 2 s "until the peer closes" although the peer's EOF already came: nothing
    # more can arrive, so closing at once cannot reset the connection. Each such
    # connection holds its socket 2 s for nothing.
    delivery = Delivery([SLOW_THEN_UNPARSEABLE], [False], "eof", None, None)
    started = time.monotonic()
    outcome = harness.run(delivery, TransportOptions(can_write_eof=True))
    elapsed = time.monotonic() - started
    check_outcome(outcome, None, delivery)
    assert [response.status for response in outcome.responses] == [200, 400]
    assert elapsed < 1.0, f"the connection lingered {elapsed:.1f} s after the peer's EOF"

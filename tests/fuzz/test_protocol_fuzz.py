"""Fuzz the compiled protocol in-process: arbitrary bytes and request streams, split every which way.

For each generated connection (see ``harness.check_outcome``): no exception
escapes the protocol or reaches the loop, every byte written parses as valid
HTTP/1.1 responses, responses answer the dispatched requests in order, nothing
follows a ``connection: close`` response, the connection ends (never hangs),
clean requests reach the app exactly as sent, and the background task of every
2xx ``/task`` response runs exactly once (and no other).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import uvloop

from .budget import BYTES_SHARE, STREAMS_SHARE, FuzzStats, run_for
from .connections import Connection, byte_connections, stream_connections
from .harness import ProtocolHarness, check_outcome


@pytest.fixture(scope="module")
def harness() -> Iterator[ProtocolHarness]:
    loop = uvloop.new_event_loop()
    harness = ProtocolHarness(loop)
    yield harness
    harness.close()
    loop.close()


def play(harness: ProtocolHarness, connection: Connection) -> None:
    outcome = harness.run(connection.delivery, connection.options, max_pending=connection.max_pending,
                          limit_pipeline=connection.limit_pipeline)
    check_outcome(outcome, connection.stream, connection.delivery)


def test_request_streams_are_answered_in_order_with_valid_framing(
    harness: ProtocolHarness, fuzz_seconds: float, fuzz_stats: Callable[[str], FuzzStats]
) -> None:
    stats = fuzz_stats("in-process request streams")
    run_for(fuzz_seconds * STREAMS_SHARE, stream_connections(), lambda c: play(harness, c), stats)
    assert stats.executions > 0


def test_arbitrary_bytes_never_break_the_protocol(
    harness: ProtocolHarness, fuzz_seconds: float, fuzz_stats: Callable[[str], FuzzStats]
) -> None:
    stats = fuzz_stats("in-process arbitrary bytes")
    run_for(fuzz_seconds * BYTES_SHARE, byte_connections(), lambda c: play(harness, c), stats)
    assert stats.executions > 0

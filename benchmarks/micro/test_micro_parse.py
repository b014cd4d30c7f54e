"""The HTTP parse path: request bytes into the compiled protocol, response bytes out (no sockets).

Everything a request costs between two syscalls: httptools parsing, the Request
object, dispatch, the handler, JSON encoding and the response bytes. The 404
case is the parser and the protocol with the cheapest possible app work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pytest_benchmark")

HELLO = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
ITEMS = b"GET /items/42?q=foo HTTP/1.1\r\nHost: bench\r\n\r\n"
MISSING = b"GET /nowhere HTTP/1.1\r\nHost: bench\r\n\r\n"
HELLO_BODY = b'{"message":"Hello, World!"}'


@pytest.mark.parametrize(("raw", "status", "body", "count"), [
    pytest.param(HELLO, b"200 OK", HELLO_BODY, 1, id="hello"),
    pytest.param(ITEMS, b"200 OK", b'{"item_id":42,"q":"foo"}', 1, id="items"),
    pytest.param(MISSING, b"404 Not Found", b'{"detail":"Not Found"}', 1, id="not-found"),
    pytest.param(HELLO * 16, b"200 OK", HELLO_BODY, 16, id="hello-pipelined-16"),
])
def test_parse_and_answer(benchmark: Any, state: Any, connect: Any, null_transport: Any,
                          answer: Callable[[bytes], bytes],
                          in_loop: Callable[[Callable[[], Any]], Any], raw: bytes, status: bytes, body: bytes,
                          count: int) -> None:
    out = answer(raw)
    assert out.count(b"HTTP/1.1 " + status + b"\r\n") == count, out[:300]
    assert out.count(body) == count, out[:300]

    protocol = connect(null_transport)
    write = state.write_batcher.run  # the loop runs it once per iteration; here, once per read

    def serve_read() -> None:
        protocol.data_received(raw)
        write()

    in_loop(lambda: benchmark(serve_read))
    assert null_transport.written >= len(out)

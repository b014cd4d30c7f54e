"""The Python ceiling: a bare asyncio.Protocol on uvloop, parsed by httptools.

Every request gets the same fixed ``200 OK`` JSON response (with Content-Length,
keep-alive), written with exactly one ``transport.write`` per request. No routing,
no header handling beyond what httptools needs to find message boundaries.

    python benchmarks/servers/raw_uvloop_httptools.py --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import httptools
import uvloop

BODY = b'{"message":"Hello, World!"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + BODY
)


class HelloProtocol(asyncio.Protocol):
    __slots__ = ("parser", "transport")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                self.transport.close()

    # httptools callback: one complete request parsed.
    def on_message_complete(self) -> None:
        transport = self.transport
        if transport is None:
            return
        transport.write(RESPONSE)
        if not self.parser.should_keep_alive():
            transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HelloProtocol, host, port, reuse_address=True, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

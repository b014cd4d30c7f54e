"""Coverage-guided fuzzing of the compiled protocol with atheris (libFuzzer for Python), for long runs by hand.

    pip install atheris hypothesis            # atheris ships wheels for CPython 3.11 on Linux x86-64
    mkdir -p .fuzz-corpus && PYTHONPATH=. python benchmarks/fuzz_atheris.py --seeds .fuzz-corpus
    PYTHONPATH=. python benchmarks/fuzz_atheris.py .fuzz-corpus -max_total_time=3600

CI runs the hypothesis suite (tests/fuzz, ``ZIGMUND_FUZZ_SECONDS``); this is
the same harness and the same checks (``tests/fuzz/harness.py``) driven by
libFuzzer, which keeps the inputs that reach new code and mutates those. Each
input is decoded into one connection: a few knob bytes (transport options,
limits, how the connection ends), up to eight cut points, and the bytes sent.
libFuzzer prints executions and corpus size as it goes (``#N ... corp: X/Yb``)
and writes a crashing input to ``crash-<sha1>``; replay one with
``python benchmarks/fuzz_atheris.py crash-<sha1>``.

Coverage comes from the instrumented Python modules (zigmund_fast's Python
code, the harness and the response checks). The Cython protocol and
httptools are C and not instrumented, so their branches guide nothing here;
the invariants still check them on every input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import atheris
import uvloop

with atheris.instrument_imports(include=["zigmund_fast", "tests.fuzz"]):
    from tests.fuzz.harness import ProtocolHarness, TransportOptions, check_outcome
    from tests.fuzz.strategies import Delivery, split

ENDINGS = ["eof", "idle", "abort", "abort-now"]
HIGH_WATERS = [None, 256, 4096]
SEEDS = [
    b"GET /hello?id=a HTTP/1.1\r\nHost: x\r\n\r\n",
    (b"GET /hello?id=a HTTP/1.1\r\nHost: x\r\n\r\nGET /slow?id=b HTTP/1.1\r\nHost: x\r\n\r\nGET /task?id=c HTTP/1.1\r\n"
    b"Host: x\r\n\r\n"),
    b"POST /echo?id=a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    (b"POST /echo?id=a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    b"5;ext=1\r\nhello\r\n0\r\nx-trailer: t\r\n\r\n"),
    b"GET /stream?id=a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /big?id=b HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /task?id=a&async=1&suspend=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"GET /sync?id=a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
]

_loop = uvloop.new_event_loop()
_harness = ProtocolHarness(_loop)


def decode(data: bytes) -> tuple[Delivery, TransportOptions, int, int]:
    """Knobs and cut points from the first bytes; the rest is what the client sends."""
    provider = atheris.FuzzedDataProvider(data)
    knobs = provider.ConsumeInt(2)
    cuts = [provider.ConsumeIntInRange(0, 4096) for _ in range(provider.ConsumeIntInRange(0, 8))]
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    chunks = split(payload, cuts)
    settle = [bool(knobs >> (8 + i % 8) & 1) for i in range(len(chunks))]
    options = TransportOptions(can_write_eof=bool(knobs & 1), high_water=HIGH_WATERS[(knobs >> 1) % 3])
    delivery = Delivery(chunks, settle, ENDINGS[(knobs >> 3) % 4], None, None)
    max_pending = (0, 2)[(knobs >> 5) & 1]
    limit_pipeline = (32, 1)[(knobs >> 6) & 1]
    return delivery, options, max_pending, limit_pipeline


def test_one_input(data: bytes) -> None:
    delivery, options, max_pending, limit_pipeline = decode(data)
    outcome = _harness.run(delivery, options, max_pending=max_pending, limit_pipeline=limit_pipeline)
    check_outcome(outcome, None, delivery)


def write_seeds(directory: Path) -> None:
    """Seed inputs: each well-formed stream, whole and cut in two, ending with EOF."""
    directory.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(SEEDS):
        for cut_count in (0, 1):
            header = bytes([0, 0]) + bytes([cut_count])
            cut = (len(seed) // 2).to_bytes(2, "little") if cut_count else b""
            (directory / f"seed-{index}-{cut_count}").write_bytes(header + cut + seed)
    print(f"wrote {2 * len(SEEDS)} seed inputs to {directory}")


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seeds", type=Path, default=None)
    known, rest = parser.parse_known_args()
    if known.seeds is not None:
        write_seeds(known.seeds)
        return
    atheris.Setup([sys.argv[0], *rest], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

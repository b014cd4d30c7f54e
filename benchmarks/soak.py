"""Soak test: ``zigmund serve --workers 2`` under a mix of well-behaved and hostile clients, then checks.

    python benchmarks/soak.py --duration 600 --json soak.json     # cwd = repo root

It starts the CLI (the ``zigmund`` script next to this Python, else
``python -m zigmund_fast``) on ``benchmarks/servers/soak_app.py`` and runs, all
at once: keep-alive clients, pipelined clients (16 requests per write), slow
clients (the head one byte at a time; now and then a slowloris the server must
cut off), malformed requests, clients that hang up mid-request and
mid-response, and HTTP/1.0 clients. At 20% of the run (end of the warm-up) and
at the end the clients pause and close their connections, and each worker's
open file descriptors are counted. Worker RSS is sampled all along. Then the
server gets SIGTERM, and the checks run:

- no worker died: the supervisor's children are the same pids at start and end;
- RSS growth after the warm-up under 10% per worker;
- every background task ran exactly once: the task records the workers wrote
  (``ran-<pid>.log``) equal the tasks their handlers queued (``queued-<pid>.log``),
  and include every ``/task`` id the clients got a 2xx for. The count of task
  records may be larger than the count of 2xx responses the clients read: a
  client that hung up mid-response (or whose handler was still running when it
  hung up) never reads its 2xx, yet its task runs, as it must;
- no file descriptor leaked: each worker's fd count at the end is at most the
  count after the warm-up (both taken with every client disconnected);
- well-formed requests always got their answer; every malformed request got an
  answer or a close within 5 s; SIGTERM exits 0; no traceback in the server log.
Exits 1 if any check fails (the records are then kept). Stdlib only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = "benchmarks.servers.soak_app:app"
SOAK_DIR_ENV = "ZIGMUND_SOAK_DIR"
WARMUP_SHARE = 0.2
RSS_GROWTH_LIMIT = 0.10
PIPELINE_DEPTH = 16
MALFORMED_BOUND = 5.0  # seconds a malformed request may take to be answered or closed
BIG_SIZE = 1024 * 1024
# Client kinds whose every request is well-formed and must be answered 2xx.
WELL_FORMED = ("keep-alive", "pipelined", "slow", "http10")
# Client kind -> how many run at once.
CLIENTS = {"keep-alive": 6, "pipelined": 2, "slow": 3, "malformed": 2, "drop-request": 2, "drop-response": 2,
           "http10": 2}
MALFORMED = [
    b"GET /hello HTTP/1.1\r\nHost: s\r\nX-Fold: a\r\n b\r\n\r\n", b"GET /hello HTTP/1.1\r\nHost: s\r\nBad Header: x\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: s\r\nX\x00: y\r\n\r\n", b"POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: -1\r\n\r\n", b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: abc\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"GET /hello HTTP/1.1\r\n\r\n", b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: s\r\nExpect: 200-ok\r\n\r\n", b"GET /hello HTTP/1.1\r\nHost: s\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    b"GET /hello?" + b"q" * 100_000 + b" HTTP/1.1\r\nHost: s\r\n\r\n", b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 99999999\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),  # a TLS hello
    b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\nHost: s\r\n\r\n",
]


# The server process, seen from /proc
def zigmund_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("zigmund")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "zigmund_fast"]
    return [*head, "serve", APP, "--workers", "2", "--port", str(port), "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # NOTE: free now; the server binds it a moment later


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (field 4 of /proc/PID/stat)."""
    kids = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return sorted(kids)


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# The clients
@dataclasses.dataclass
class Tally:
    """What the clients of one kind did."""

    requests: int = 0
    ok: int = 0  # 2xx read in full
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    failed: int = 0  # well-formed requests not answered right (malformed: left hanging)
    failures: list[str] = dataclasses.field(default_factory=list)  # the first few, as samples
    hangs: int = 0
    resets: int = 0


class Run:
    """Shared by every client: the gate (pause/stop), the tallies, the ids of tasks answered 2xx."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stopping = False
        self.paused = False
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.open_connections = 0
        self.tallies: dict[str, Tally] = collections.defaultdict(Tally)
        self.task_ids_ok: set[str] = set()
        self.counter = 0

    def new_id(self, kind: str) -> str:
        self.counter += 1
        return f"{kind[:2]}{self.counter}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=4 * 1024 * 1024)
        self.open_connections += 1
        return reader, writer

    async def close(self, writer: asyncio.StreamWriter, reset: bool = False) -> None:
        if reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        self.open_connections -= 1

    @property
    def go(self) -> bool:
        return not self.stopping and not self.paused

    def fail(self, kind: str, what: str) -> None:
        tally = self.tallies[kind]
        tally.failed += 1
        if len(tally.failures) < 5:
            tally.failures.append(what)


async def read_response(reader: asyncio.StreamReader, head: bool = False) -> tuple[int, bytes]:
    """One Content-Length-framed response: (status, body)."""
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = (line.partition(":") for line in lines[1:])
    length = next((int(value) for name, _, value in fields if name.strip().lower() == "content-length"), 0)
    if head or status in (204, 304) or status < 200:
        return status, b""
    return status, await reader.readexactly(length)


def status_of(data: bytes) -> int:
    """The status of the response ``data`` starts with; 0 for none (the server just closed)."""
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else 0


def task_request(ident: str, method: str = "POST", extra: str = "", version: str = "1.1") -> bytes:
    host = "Host: soak\r\n" if version == "1.1" else ""
    length = "Content-Length: 0\r\n" if method == "POST" else ""
    return f"{method} /task?id={ident}{extra} HTTP/{version}\r\n{host}{length}\r\n".encode()


GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n"


def check_task_answer(run: Run, kind: str, ident: str, status: int, body: bytes) -> None:
    tally = run.tallies[kind]
    tally.statuses[status] += 1
    if status == 200 and json.loads(body) == {"queued": ident}:
        tally.ok += 1
        run.task_ids_ok.add(ident)
    else:
        run.fail(kind, f"/task?id={ident}: {status} {body[:80]!r}")


async def keep_alive_client(run: Run, kind: str) -> None:
    reader, writer = await run.connect()
    try:
        while run.go:
            tally = run.tallies[kind]
            ident = run.new_id(kind)
            extra = "&async=1" if random.random() < 0.3 else ""
            writer.write(task_request(ident, extra=extra))
            tally.requests += 1
            check_task_answer(run, kind, ident, *await read_response(reader))
            roll = random.random()
            if roll < 0.05:
                writer.write(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")
                status, body = await read_response(reader)
                ok = status == 200 and len(body) == BIG_SIZE
            elif roll < 0.3:
                payload = os.urandom(random.randint(0, 4096))
                writer.write(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
                status, body = await read_response(reader)
                ok = status == 200 and body == payload
            else:
                writer.write(GET_HELLO)
                status, body = await read_response(reader)
                ok = status == 200 and body == b'{"ok":true}'
            tally.requests += 1
            tally.statuses[status] += 1
            tally.ok += ok
            if not ok:
                run.fail(kind, f"{status} {body[:80]!r}")
    finally:
        await run.close(writer)


async def pipelined_client(run: Run, kind: str) -> None:
    reader, writer = await run.connect()
    try:
        while run.go:
            idents = [run.new_id(kind) if i % 2 else None for i in range(PIPELINE_DEPTH)]
            writer.write(b"".join(GET_HELLO if i is None else task_request(i, "GET") for i in idents))
            run.tallies[kind].requests += PIPELINE_DEPTH
            for ident in idents:
                status, body = await read_response(reader)
                if ident is not None:
                    check_task_answer(run, kind, ident, status, body)
                elif status != 200 or body != b'{"ok":true}':
                    run.fail(kind, f"/hello: {status} {body[:80]!r}")
                else:
                    run.tallies[kind].ok += 1
                    run.tallies[kind].statuses[status] += 1
    finally:
        await run.close(writer)


async def slow_client(run: Run, kind: str) -> None:
    """The head one byte at a time; one connection in eight is a slowloris the server must cut off."""
    reader, writer = await run.connect()
    tally = run.tallies[kind]
    try:
        if random.random() < 0.125:
            writer.write(b"GET /hello HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
            tally.requests += 1
            while run.go:
                writer.write(b"a")
                try:
                    await writer.drain()
                    data = await asyncio.wait_for(reader.read(65536), 1.0)
                except TimeoutError:
                    continue
                except OSError:
                    data = b""
                tally.statuses[status_of(data)] += 1
                return  # cut off (408, or a close), as it must be
            return
        for _ in range(5):  # then a new connection (and a new chance of a slowloris)
            if not run.go:
                break
            ident = run.new_id(kind)
            for byte in task_request(ident, "GET"):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(random.uniform(0.001, 0.01))
            tally.requests += 1
            check_task_answer(run, kind, ident, *await read_response(reader))
    finally:
        await run.close(writer)


async def malformed_client(run: Run, kind: str) -> None:
    reader, writer = await run.connect()
    tally = run.tallies[kind]
    reset = False
    try:
        payload = random.choice(MALFORMED)
        writer.write(payload)
        tally.requests += 1
        data = b""
        try:
            # The first bytes back (an error response, or the answer when the server accepts the
            # request after all), or the close.
            data = await asyncio.wait_for(reader.read(65536), MALFORMED_BOUND)
        except TimeoutError:
            tally.hangs += 1
            run.fail(kind, f"no answer and no close in {MALFORMED_BOUND} s to {payload[:60]!r}")
        except ConnectionResetError:
            tally.resets += 1
        tally.statuses[status_of(data)] += 1
        reset = random.random() < 0.5
    finally:
        await run.close(writer, reset=reset)


async def drop_request_client(run: Run, kind: str) -> None:
    """Hang up (FIN or RST) in the middle of a request head or body."""
    _, writer = await run.connect()
    request = task_request(run.new_id(kind)).replace(b"Content-Length: 0", b"Content-Length: 100") + b"partial"
    writer.write(request[: random.randint(1, len(request) - 1)])
    run.tallies[kind].requests += 1
    await asyncio.sleep(random.uniform(0, 0.02))
    await run.close(writer, reset=random.random() < 0.5)


async def drop_response_client(run: Run, kind: str) -> None:
    """Hang up before or while the response is sent: mid-1-MiB-body, during a slow handler, or a pipeline."""
    reader, writer = await run.connect()
    tally = run.tallies[kind]
    roll = random.random()
    try:
        if roll < 0.4:
            writer.write(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await reader.readexactly(random.randint(1, 256 * 1024))
        elif roll < 0.7:
            writer.write(task_request(run.new_id(kind), extra="&slow=1"))  # its task still runs
            await asyncio.sleep(0.01)
        else:
            writer.write(b"".join(task_request(run.new_id(kind), "GET") for _ in range(PIPELINE_DEPTH)))
            await asyncio.sleep(random.uniform(0, 0.005))
        tally.requests += 1
    finally:
        await run.close(writer, reset=random.random() < 0.5)


async def http10_client(run: Run, kind: str) -> None:
    reader, writer = await run.connect()
    try:
        ident = run.new_id(kind)
        writer.write(task_request(ident, "GET", version="1.0"))
        run.tallies[kind].requests += 1
        data = await reader.read()  # HTTP/1.0 without keep-alive: the server closes after the response
        check_task_answer(run, kind, ident, status_of(data), data.partition(b"\r\n\r\n")[2])
    finally:
        await run.close(writer)


CLIENT_KINDS: dict[str, Callable[[Run, str], Awaitable[None]]] = {
    "keep-alive": keep_alive_client, "pipelined": pipelined_client, "slow": slow_client,
    "malformed": malformed_client, "drop-request": drop_request_client, "drop-response": drop_response_client,
    "http10": http10_client,
}


async def client_loop(run: Run, kind: str) -> None:
    """Run clients of ``kind`` one after another until the run stops; pause when asked."""
    client = CLIENT_KINDS[kind]
    while not run.stopping:
        if run.paused:
            await run.resumed.wait()
            continue
        try:
            await client(run, kind)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            if kind in WELL_FORMED and run.go:
                run.fail(kind, f"{type(exc).__name__}: {exc}")


# Orchestration
class Server:
    def __init__(self, port: int, directory: str, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        env = dict(os.environ, **{SOAK_DIR_ENV: directory})
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(zigmund_command(port), cwd=REPO_ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, workers: int = 2, timeout: float = 30.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            pids = children(self.process.pid)
            if len(pids) == workers:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1) as sock:
                    sock.sendall(GET_HELLO)
                    if sock.recv(100).startswith(b"HTTP/1.1 200"):
                        return pids
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start in {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> int | None:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        finally:
            self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def quiesce(run: Run, pids: list[int]) -> dict[int, int]:
    """Pause every client, let the server close what they left, and count each worker's fds."""
    run.paused = True
    run.resumed.clear()
    deadline = time.monotonic() + 15
    while run.open_connections and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # NOTE: a connection that got an error response lingers up to 2 s before the server closes it.
    counts: dict[int, int] = {}
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < 1.0 and time.monotonic() < deadline + 5:
        await asyncio.sleep(0.25)
        now = {pid: fd_count(pid) for pid in pids}
        if now != counts:
            counts, stable_since = now, time.monotonic()
    return counts


async def sample_rss(run: Run, pids: list[int], samples: dict[int, list[tuple[float, int]]], start: float) -> None:
    while not run.stopping:
        for pid in pids:
            with contextlib.suppress(OSError):
                samples[pid].append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(0.5)


async def drive(port: int, duration: float, pids: list[int]) -> dict[str, Any]:
    run = Run(port)
    start = time.monotonic()
    rss: dict[int, list[tuple[float, int]]] = collections.defaultdict(list)
    sampler = asyncio.create_task(sample_rss(run, pids, rss, start))
    clients = [asyncio.create_task(client_loop(run, kind)) for kind, count in CLIENTS.items() for _ in range(count)]
    await asyncio.sleep(duration * WARMUP_SHARE)
    fds_warm = await quiesce(run, pids)
    warm_at = time.monotonic() - start
    run.paused = False
    run.resumed.set()
    await asyncio.sleep(max(0.0, duration - (time.monotonic() - start)))
    fds_end = await quiesce(run, pids)
    run.stopping = True
    run.resumed.set()
    await asyncio.wait(clients, timeout=20)
    await sampler
    return {"run": run, "rss": rss, "fds_warm": fds_warm, "fds_end": fds_end, "warm_at": warm_at,
            "seconds": time.monotonic() - start}


def read_records(directory: str, kind: str) -> collections.Counter[str]:
    records: collections.Counter[str] = collections.Counter()
    for path in Path(directory).glob(f"{kind}-*.log"):
        records.update(path.read_text().split())
    return records


def rss_growth(samples: list[tuple[float, int]], warm_at: float) -> tuple[int, int, float]:
    """RSS just after the warm-up (median of the next 10 samples) and at the end (median of the last 10)."""
    after = [kib for t, kib in samples if t >= warm_at]
    if len(after) < 2:
        return 0, 0, 0.0
    baseline = int(statistics.median(after[:10]))
    final = int(statistics.median(after[-10:]))
    return baseline, final, (final - baseline) / baseline if baseline else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the task records and server log when all pass")
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix="zigmund-soak-")
    port = free_port()
    server = Server(port, directory, Path(directory) / "server.log")
    try:
        pids_start = server.wait_ready()
        print(f"soak: {' '.join(zigmund_command(port))} (supervisor {server.process.pid}, workers {pids_start}); "
              f"{args.duration:.0f} s of load, records in {directory}", flush=True)
        result = asyncio.run(drive(port, args.duration, pids_start))
        pids_end = children(server.process.pid)
    except BaseException:
        server.stop(10)
        raise
    exit_code = server.stop()
    log = server.log_path.read_text(errors="replace")
    report = build_report(args.duration, result, pids_start, pids_end, exit_code, log, directory)
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    failed = [name for name, check in report["checks"].items() if not check["ok"]]
    if failed:
        print(f"soak: FAILED: {', '.join(failed)} (records and log kept in {directory})\n"
              f"--- server log (tail) ---\n{server.log_tail()}", flush=True)
        return 1
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    print("soak: all checks passed", flush=True)
    return 0


def build_report(duration: float, result: dict[str, Any], pids_start: list[int], pids_end: list[int],
                 exit_code: int | None, log: str, directory: str) -> dict[str, Any]:
    run: Run = result["run"]
    queued = read_records(directory, "queued")
    ran = read_records(directory, "ran")
    twice = sorted(ident for ident, count in ran.items() if count > 1)
    not_run = sorted((queued - ran).elements())
    unqueued = sorted((ran - queued).elements())
    missing = sorted(run.task_ids_ok - set(ran))
    workers = {}
    for pid in pids_start:
        baseline, final, growth = rss_growth(result["rss"][pid], result["warm_at"])
        workers[str(pid)] = {
            "rss_kib_after_warmup": baseline, "rss_kib_end": final, "rss_growth": round(growth, 4),
            "rss_kib_max": max((kib for _, kib in result["rss"][pid]), default=0),
            "fds_after_warmup": result["fds_warm"].get(pid), "fds_end": result["fds_end"].get(pid),
        }
    tallies = {kind: {"requests": t.requests, "ok_2xx": t.ok, "statuses": dict(sorted(t.statuses.items())),
                      "failures": t.failed, "failure_samples": t.failures, "hangs": t.hangs,
                      "resets": t.resets} for kind, t in sorted(run.tallies.items())}
    tracebacks = log.count("Traceback")
    checks = {
        "no worker died": {"ok": pids_start == pids_end and len(pids_start) == 2,
                           "detail": f"workers {pids_start} at start, {pids_end} at the end"},
        "RSS growth < 10% after warm-up": {
            "ok": all(w["rss_growth"] < RSS_GROWTH_LIMIT for w in workers.values()),
            "detail": ", ".join(f"{pid}: {w['rss_kib_after_warmup']} -> {w['rss_kib_end']} KiB "
                                f"({w['rss_growth']:+.1%})" for pid, w in workers.items())},
        "every task ran exactly once": {
            "ok": not twice and not not_run and not unqueued and not missing,
            "detail": f"queued {sum(queued.values())}, ran {sum(ran.values())}, clients read 2xx for "
                      f"{len(run.task_ids_ok)}; ran twice {len(twice)}, queued but not run {len(not_run)}, "
                      f"run but not queued {len(unqueued)}, 2xx without a run {len(missing)}"
                      + (f" e.g. {(twice + not_run + unqueued + missing)[:5]}" if twice or not_run or unqueued or missing
                         else "")},
        "no fd leaked": {
            "ok": all(w["fds_end"] is not None and w["fds_after_warmup"] is not None
                      and w["fds_end"] <= w["fds_after_warmup"] for w in workers.values()),
            "detail": ", ".join(f"{pid}: {w['fds_after_warmup']} -> {w['fds_end']}" for pid, w in workers.items())},
        "well-formed requests answered": {
            "ok": all(tallies[kind]["failures"] == 0 for kind in WELL_FORMED if kind in tallies),
            "detail": "; ".join(f"{kind}: {tallies[kind]['failure_samples']}" for kind in WELL_FORMED
                                if kind in tallies and tallies[kind]["failures"]) or "no failure"},
        "malformed requests answered or closed": {
            "ok": tallies.get("malformed", {}).get("hangs", 0) == 0,
            "detail": f"{tallies.get('malformed', {}).get('hangs', 0)} left without an answer or a close for "
                      f"{MALFORMED_BOUND} s {tallies.get('malformed', {}).get('failure_samples', [])}"},
        "SIGTERM exits 0": {"ok": exit_code == 0, "detail": f"exit code {exit_code}"},
        "no traceback in the server log": {"ok": tracebacks == 0, "detail": f"{tracebacks} traceback(s)"},
    }
    return {"duration": duration, "seconds": round(result["seconds"], 1), "warmup_seconds": round(result["warm_at"], 1),
            "workers": workers, "clients": tallies, "tasks": {"queued": sum(queued.values()), "ran": sum(ran.values()),
            "clients_2xx": len(run.task_ids_ok)}, "checks": checks}


def print_report(report: dict[str, Any]) -> None:
    print(f"\nsoak: {report['seconds']} s ({report['warmup_seconds']} s warm-up)")
    print(f"\n{'client kind':<14} {'requests':>9} {'2xx read':>9} {'failures':>9} {'hangs':>6}  statuses")
    for kind, tally in report["clients"].items():
        statuses = " ".join(f"{status}:{count}" for status, count in tally["statuses"].items())
        print(f"{kind:<14} {tally['requests']:>9} {tally['ok_2xx']:>9} {tally['failures']:>9} {tally['hangs']:>6}  "
              f"{statuses}")
    print(f"\n{'worker':<8} {'RSS warm KiB':>13} {'RSS end KiB':>12} {'growth':>8} {'RSS max KiB':>12} "
          f"{'fds warm':>9} {'fds end':>8}")
    for pid, w in report["workers"].items():
        print(f"{pid:<8} {w['rss_kib_after_warmup']:>13} {w['rss_kib_end']:>12} {w['rss_growth']:>+8.1%} "
              f"{w['rss_kib_max']:>12} {w['fds_after_warmup']!s:>9} {w['fds_end']!s:>8}")
    tasks = report["tasks"]
    print(f"\ntasks: queued {tasks['queued']}, ran {tasks['ran']}, 2xx read by clients {tasks['clients_2xx']}\n")
    for name, check in report["checks"].items():
        print(f"[{'ok' if check['ok'] else 'FAIL':>4}] {name}: {check['detail']}")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())

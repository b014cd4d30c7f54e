"""Load benchmark: zigmund_fast vs FastAPI, other Python frameworks and a raw uvloop+httptools ceiling.

For each (server, route) it measures, side by side: requests/s, p50 and p99
latency (``wrk --latency``), server CPU time per request (utime+stime of the
server's process tree from /proc, before/after the run), peak RSS (VmHWM) and RSS
after the run. The server is pinned to core 0, wrk to core 1. Rounds are
interleaved (server order rotates each round) and medians are reported.

    python benchmarks/run.py --servers raw,fastapi,zigmund --duration 10 --rounds 3
    python benchmarks/run.py --servers all --routes all --duration 10 --rounds 3

Servers or routes a run can't serve (a peer that won't import or start, a route
it doesn't implement or answers wrongly) are skipped with the reason printed.
At the end it draws benchmarks/results/requests_per_second.png with plot.py
when matplotlib is importable (``--no-plot`` skips that).

See benchmarks/README.md. Stdlib only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
POST_LUA = BENCH_DIR / "post.lua"
PIPELINE_LUA = BENCH_DIR / "pipeline.lua"
BODY_LUA = BENCH_DIR / "body.lua"
BODY_JSON = BENCH_DIR / "body.json"  # the 1 KiB order body.lua posts
PIPELINE_DEPTH = 16  # requests per write on the pipelined route
PLOT_SCRIPT = BENCH_DIR / "plot.py"
PLOT_NAME = "requests_per_second.png"  # written next to the JSON results
DEFAULT_OUTPUT = BENCH_DIR / "results" / "latest.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU = "0"
WRK_CPU = "1"
WRK_THREADS = 1
STATS_PATH = "/tutorial/background-tasks/stats"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    expect: Any  # JSON body a correct server answers with
    lua: Path | None = None
    counts_tasks: bool = False
    body: bytes | None = None  # request body of the correctness check (the Lua script sends the same)
    content_type: str | None = None
    pipeline: int = 1  # requests per write; > 1: the check sends that many in one write
    wrk_args: tuple[str, ...] = ()  # passed to the Lua script's init(args), after `--`


HELLO = {"message": "Hello, World!"}
ROUTES: dict[str, Route] = {
    "hello": Route("hello", "GET", "/", HELLO),
    "items": Route("items", "GET", "/items/42?q=foo", {"item_id": 42, "q": "foo"}),
    "post": Route("post", "POST", "/tutorial/background-tasks/notifications", {"queued": True},
                  lua=POST_LUA, counts_tasks=True),
    # hello-JSON with 16 requests per write (pipeline.lua).
    "pipeline": Route("pipeline", "GET", "/", HELLO, lua=PIPELINE_LUA, pipeline=PIPELINE_DEPTH,
                      wrk_args=(str(PIPELINE_DEPTH),)),
    # A 1 KiB JSON body validated into a model (msgspec Struct / pydantic), summarised in the answer.
    "body": Route("body", "POST", "/orders", {"order_id": 90210, "items": 8, "quantity": 36}, lua=BODY_LUA,
                  body=BODY_JSON.read_bytes() if BODY_JSON.exists() else None, content_type="application/json"),
}


@dataclass(frozen=True)
class Server:
    name: str
    routes: tuple[str, ...]
    preflight: str  # python source run with -c in the repo root: fails => server skipped
    command: Callable[[argparse.Namespace, int], list[str]]
    # Per-route answers that differ from Route.expect (raw answers hello to everything).
    expect: dict[str, Any] = field(default_factory=dict)


def _raw_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [a.peer_python, str(BENCH_DIR / "servers" / "raw_uvloop_httptools.py"), "--port", str(port)]


def _fastapi_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [a.peer_python, "-m", "uvicorn", "benchmarks.servers.fastapi_app:app", "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning", "--port", str(port)]


def _zigmund_launcher(a: argparse.Namespace) -> list[str]:
    # NOTE: the console script imports the installed package; `python -m zigmund_fast`
    # from the repo root would import the (unbuilt) source tree instead.
    script = Path(a.zigmund_python).parent / "zigmund"
    return [str(script)] if script.exists() else [a.zigmund_python, "-m", "zigmund_fast"]


def _zigmund_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [*_zigmund_launcher(a), "serve", "benchmarks.servers.zigmund_app:app",
            "--port", str(port), *shlex.split(a.zigmund_args)]


def _zigmund_workers2_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [*_zigmund_cmd(a, port), "--workers", "2"]


def _zigmund_sink_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [*_zigmund_launcher(a), "serve", "benchmarks.servers.zigmund_sink_app:app",
            "--port", str(port), *shlex.split(a.zigmund_args)]


def _zigmund_sink_cached_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [*_zigmund_launcher(a), "serve", "benchmarks.servers.zigmund_sink_cached_app:app",
            "--port", str(port), *shlex.split(a.zigmund_args)]


def _zigmund_baseline_cmd(a: argparse.Namespace, port: int) -> list[str]:
    # NOTE: an older checkout of zigmund_fast (built in place) put first on sys.path, serving the
    # same benchmark app: "before and after" in one run. `-m` would put the cwd first instead.
    code = (f"import sys; sys.path.insert(0, {str(a.zigmund_baseline)!r}); "
            "from zigmund_fast.cli import main; sys.exit(main())")
    return [a.zigmund_python, "-c", code, "serve", "benchmarks.servers.zigmund_app:app", "--port", str(port),
            *shlex.split(a.zigmund_args)]


# Peers: one process, one worker, access logs off, the server's fastest documented settings
# (benchmarks/README.md says which and why).

UVICORN_FAST = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


def _uvicorn_cmd(app: str) -> Callable[[argparse.Namespace, int], list[str]]:
    def command(a: argparse.Namespace, port: int) -> list[str]:
        return [a.peer_python, "-m", "uvicorn", app, *UVICORN_FAST, "--port", str(port)]
    return command


def _granian_cmd(interface: str, app: str) -> Callable[[argparse.Namespace, int], list[str]]:
    def command(a: argparse.Namespace, port: int) -> list[str]:
        # NOTE: Granian forks one worker process from its supervisor; both stay on core 0
        # (taskset is inherited) and process_tree() counts both.
        return [a.peer_python, "-m", "granian", "--interface", interface, "--http", "1", "--no-ws",
                "--workers", "1", "--runtime-mode", "st", "--runtime-threads", "1", "--loop", "uvloop",
                "--backlog", "2048", "--no-access-log", "--log-level", "warning", "--port", str(port), app]
    return command


def _sanic_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [a.peer_python, "-m", "sanic", "benchmarks.servers.sanic_app:app", "--single-process",
            "--no-access-logs", "--no-motd", "--port", str(port)]


def _socketify_cmd(a: argparse.Namespace, port: int) -> list[str]:
    return [a.peer_python, str(BENCH_DIR / "servers" / "socketify_app.py"), "--port", str(port)]


PEER_ROUTES = ("hello", "items", "post", "pipeline")

SERVERS: dict[str, Server] = {
    "raw": Server("raw", ("hello", "pipeline", "body"), "import uvloop, httptools", _raw_cmd,
                  expect={"body": HELLO}),  # no routing: the fixed hello answer, after reading the body
    "fastapi": Server("fastapi", ("hello", "items", "post", "pipeline", "body"),
                      "import uvicorn, uvloop, httptools, benchmarks.servers.fastapi_app", _fastapi_cmd),
    "zigmund": Server("zigmund", ("hello", "items", "post", "pipeline", "body"),
                      "import zigmund_fast.cli, benchmarks.servers.zigmund_app", _zigmund_cmd),
    # --zigmund-baseline DIR: the same app on an older checkout, for before/after ratios.
    "zigmund-baseline": Server("zigmund-baseline", ("hello", "items", "post"),
                               "import zigmund_fast.cli, benchmarks.servers.zigmund_app", _zigmund_baseline_cmd),
    # Two worker processes behind one listening socket: the scaling run (--server-cpus 0,1, not in "all").
    "zigmund-w2": Server("zigmund-w2", ("hello", "items"),  # post: its task count is per worker
                         "import zigmund_fast.cli, benchmarks.servers.zigmund_app", _zigmund_workers2_cmd),
    # The POST route with the JSON-lines sink on: issue 3's "sink costs" ratio.
    "zigmund-sink": Server("zigmund-sink", ("post",),
                           "import zigmund_fast.cli, benchmarks.servers.zigmund_sink_app", _zigmund_sink_cmd),
    # The same with JSONLinesSink(drop_cache=False): page cache and writeback left to the kernel (not in "all").
    "zigmund-sink-cached": Server("zigmund-sink-cached", ("post",),
                                  "import zigmund_fast.cli, benchmarks.servers.zigmund_sink_cached_app",
                                  _zigmund_sink_cached_cmd),
    "starlette": Server("starlette", PEER_ROUTES,
                        "import uvicorn, uvloop, httptools, benchmarks.servers.starlette_app",
                        _uvicorn_cmd("benchmarks.servers.starlette_app:app")),
    # The same Starlette app on Granian's ASGI interface: the server's share of the cost.
    "granian-asgi": Server("granian-asgi", PEER_ROUTES, "import granian, uvloop, benchmarks.servers.starlette_app",
                           _granian_cmd("asgi", "benchmarks.servers.starlette_app:app")),
    "granian-rsgi": Server("granian-rsgi", PEER_ROUTES, "import granian, uvloop, benchmarks.servers.granian_rsgi_app",
                           _granian_cmd("rsgi", "benchmarks.servers.granian_rsgi_app:app")),
    "blacksheep": Server("blacksheep", PEER_ROUTES,
                         "import uvicorn, uvloop, httptools, benchmarks.servers.blacksheep_app",
                         _uvicorn_cmd("benchmarks.servers.blacksheep_app:app")),
    "sanic": Server("sanic", PEER_ROUTES, "import benchmarks.servers.sanic_app", _sanic_cmd),
    # NOTE: building an App loads socketify's bundled native library (libsocketify, via CFFI).
    "socketify": Server("socketify", PEER_ROUTES,
                        "import benchmarks.servers.socketify_app, socketify; socketify.App()", _socketify_cmd),
    "litestar": Server("litestar", (*PEER_ROUTES, "body"),
                       "import uvicorn, uvloop, httptools, benchmarks.servers.litestar_app",
                       _uvicorn_cmd("benchmarks.servers.litestar_app:app")),
}

# Which interpreter runs each server (and its import check): --peer-python unless listed here.
PYTHON_OF: dict[str, str] = {"raw": "peer_python", "fastapi": "peer_python", "zigmund": "zigmund_python",
                             "zigmund-sink": "zigmund_python", "zigmund-sink-cached": "zigmund_python",
                             "zigmund-baseline": "zigmund_python", "zigmund-w2": "zigmund_python"}
PEER_PACKAGES = ("fastapi starlette uvicorn uvloop httptools pydantic granian blacksheep sanic socketify "
                 "litestar msgspec")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def process_tree(pid: int) -> list[int]:
    """pid and all its live descendants (a supervisor may fork workers)."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen or not Path(f"/proc/{p}").exists():
            continue
        seen.append(p)
        todo += _children(p)
    return seen


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total


def mem_kib(pids: list[int], key: str) -> int:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    sent: int | None  # requests written, from post.lua's done() (None without the script)
    raw: str = field(repr=False)


def parse_wrk(out: str) -> WrkResult:
    req = re.search(r"^\s*(\d+) requests in", out, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", out, re.MULTILINE)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE)
    if not (req and rps and p50 and p99):
        raise ValueError("unexpected wrk output:\n" + out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sent = re.search(r"^requests sent: (\d+)", out, re.MULTILINE)
    return WrkResult(int(req.group(1)), float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)),
                     int(non2xx.group(1)) if non2xx else 0, sum(int(g) for g in sock.groups()) if sock else 0,
                     int(sent.group(1)) if sent else None, out)


def run_wrk(port: int, route: Route, duration: float, connections: int) -> WrkResult:
    seconds = max(1, round(duration))  # wrk takes whole seconds
    cmd = ["taskset", "-c", WRK_CPU, "wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if route.lua is not None:
        cmd += ["-s", str(route.lua)]
    cmd.append(f"http://127.0.0.1:{port}{route.path}")
    if route.wrk_args:
        cmd += ["--", *route.wrk_args]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, timeout: float = 5.0, body: bytes | None = None,
            content_type: str | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if body is None and method == "POST":
            body = b""
        conn.request(method, path, body=body, headers={"Content-Type": content_type} if content_type else {})
        resp = conn.getresponse()
        body = resp.read()
        try:
            return resp.status, json.loads(body)
        except ValueError:
            return resp.status, body.decode(errors="replace")
    finally:
        conn.close()


class ServerStartError(Exception):
    pass


class RunningServer:
    def __init__(self, name: str, cmd: list[str], log_dir: Path, start_timeout: float) -> None:
        self.name = name
        self.port = int(cmd[cmd.index("--port") + 1])
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.cmd = ["taskset", "-c", SERVER_CPU, *cmd]
        # Own session so the whole tree can be signalled; taskset execs, so proc.pid is the server.
        self.proc = subprocess.Popen(self.cmd, cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready(start_timeout)

    def log_tail(self, lines: int = 15) -> str:
        self.log.flush()
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return "\n".join("    | " + line for line in text[-lines:]) or "    | (no output)"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(f"exited with code {self.proc.returncode} before accepting connections:\n"
                                       + self.log_tail())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerStartError(f"did not accept connections on port {self.port} within {timeout:g}s:\n"
                               + self.log_tail())

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  {self.name}: no exit {timeout:g}s after SIGTERM, sending SIGKILL", flush=True)
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        try:  # stragglers of the group (workers) if the leader exited first
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


@dataclass
class Sample:
    server: str
    route: str
    round: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_req: float
    peak_rss_mib: float
    rss_after_mib: float
    non2xx: int
    socket_errors: int
    tasks: str | None = None  # "ok" / "mismatch (n vs m)" for task-counting routes
    tasks_detail: dict[str, int | None] | None = None
    drain_s: float | None = None  # seconds after wrk until every task had run (or gave up)


def check_route(srv: RunningServer, route: Route, expect: Any) -> str | None:
    """None if the route answers correctly (``expect``, with status 200), else what came back."""
    if route.lua is not None and not route.lua.exists():
        return f"wrk script {route.lua} is missing"
    if route.pipeline > 1:
        return check_pipeline(srv.port, route, expect)
    try:
        status, body = request(srv.port, route.method, route.path, body=route.body,
                               content_type=route.content_type)
    except OSError as exc:
        return f"request failed: {exc!r}"
    if status != 200 or body != expect:
        return f"got {status} {body!r}, expected 200 {expect!r}"
    return None


def _dechunk(data: bytes) -> tuple[bytes, int] | None:
    """(body, bytes used) of the chunked message at the start of ``data``; None if it is incomplete."""
    body, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:  # last chunk, then optional trailers and an empty line
            end = data.find(b"\r\n\r\n", eol)
            return None if end < 0 else (body, end + 4)
        start = eol + 2
        if len(data) < start + size + 2:
            return None
        body += data[start:start + size]
        pos = start + size + 2


def _split_responses(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Complete HTTP/1.1 responses at the start of ``buf`` as (status, body), and the rest of ``buf``."""
    out: list[tuple[int, bytes]] = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        rest = buf[end + 4:]
        if "content-length" in fields:
            size = int(fields["content-length"])
            if len(rest) < size:
                return out, buf
            out.append((status, rest[:size]))
            buf = rest[size:]
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            chunked = _dechunk(rest)
            if chunked is None:
                return out, buf
            out.append((status, chunked[0]))
            buf = rest[chunked[1]:]
        else:
            raise ValueError(f"response without Content-Length or chunked encoding: {head[0]!r}")


def check_pipeline(port: int, route: Route, expect: Any, timeout: float = 5.0) -> str | None:
    """Send ``route.pipeline`` requests in one write; all of them must come back, in order, correct."""
    depth = route.pipeline
    one = f"{route.method} {route.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    answers: list[tuple[int, bytes]] = []
    buf = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(one * depth)
            while len(answers) < depth:
                data = sock.recv(65536)
                if not data:
                    break
                got, buf = _split_responses(buf + data)
                answers += got
    except (OSError, ValueError) as exc:
        return f"pipelined requests failed after {len(answers)} of {depth} answers: {exc!r}"
    if len(answers) != depth:
        return f"{len(answers)} answers to {depth} pipelined requests (connection closed)"
    for index, (status, raw) in enumerate(answers):
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        if status != 200 or body != expect:
            return f"pipelined answer {index + 1}/{depth}: got {status} {body!r}, expected 200 {expect!r}"
    return None


def read_tasks(srv: RunningServer) -> int | None:
    try:
        status, body = request(srv.port, "GET", STATS_PATH)
    except OSError:
        return None
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("notifications_sent"), int):
        return None
    return int(body["notifications_sent"])


def read_handled(srv: RunningServer) -> int | None:
    """POST requests the server's handler ran, once the count has stopped moving."""
    last = None
    for _ in range(50):
        try:
            status, body = request(srv.port, "GET", STATS_PATH)
        except OSError:
            return None
        value = body.get("requests_handled") if status == 200 and isinstance(body, dict) else None
        if not isinstance(value, int):
            return None
        if value == last:
            return value
        last = value
        time.sleep(0.05)
    return last


def wait_tasks(srv: RunningServer, expected: int, timeout: float) -> int | None:
    """Poll the stats route until `expected` tasks ran, the count stalls for 3s, or `timeout`."""
    deadline = time.monotonic() + timeout
    last, last_change = None, time.monotonic()
    while True:
        seen = read_tasks(srv)
        now = time.monotonic()
        if seen is not None and seen >= expected:
            return seen
        if seen != last:
            last, last_change = seen, now
        if now >= deadline or now - last_change >= 3.0:
            return seen
        time.sleep(0.1)


def bench_server(server: Server, args: argparse.Namespace, rnd: int, log_dir: Path,
                 broken_routes: set[tuple[str, str]]) -> list[Sample]:
    cmd = server.command(args, free_port()) + shlex.split(args.server_args.get(server.name, ""))
    srv = RunningServer(server.name, cmd, log_dir, args.start_timeout)
    samples: list[Sample] = []
    # Cumulative POSTs this process got: the check request, warm-ups and measured runs.
    # "sent" is the server's own count of POST handlers run (incl. the <= 1 per connection
    # still in flight when wrk stops); "answered" counts responses wrk completed.
    sent = answered = 0
    try:
        for rname in args.routes:
            if rname not in server.routes or (server.name, rname) in broken_routes:
                continue
            route = ROUTES[rname]
            problem = check_route(srv, route, server.expect.get(rname, route.expect))
            if problem is not None:
                print(f"  {server.name}/{rname}: SKIPPED, wrong answer: {problem}", flush=True)
                broken_routes.add((server.name, rname))
                continue
            warm = run_wrk(srv.port, route, args.warmup, args.connections)
            if route.counts_tasks:
                answered += 1 + warm.requests
                sent = read_handled(srv) or 0
                wait_tasks(srv, sent, args.drain_timeout)  # warm-up backlog must not leak into the run
            pids = srv.pids()
            ticks0 = cpu_ticks(pids)
            res = run_wrk(srv.port, route, args.duration, args.connections)
            ended = time.monotonic()
            seen: int | None = None
            if route.counts_tasks:
                answered += res.requests
                sent = read_handled(srv) or 0
                seen = wait_tasks(srv, sent, args.drain_timeout)
            drained = time.monotonic() - ended
            time.sleep(max(0.0, args.drain - drained))  # CPU is read after the drain: tasks' work counts
            pids = srv.pids()
            ticks1 = cpu_ticks(pids)
            cpu_s = (ticks1 - ticks0) / CLK_TCK
            sample = Sample(server.name, rname, rnd, res.requests, res.rps, res.p50_ms, res.p99_ms,
                            cpu_s / res.requests * 1e6 if res.requests else float("nan"),
                            mem_kib(pids, "VmHWM") / 1024, mem_kib(pids, "VmRSS") / 1024,
                            res.non2xx, res.socket_errors)
            if route.counts_tasks:
                if seen is None:
                    sample.tasks = "unreadable (stats route failed)"
                elif seen == sent:
                    sample.tasks = "ok"
                else:
                    sample.tasks = f"mismatch ({seen} vs {sent})"
                sample.tasks_detail = {"notifications_sent": seen, "requests_sent": sent,
                                       "responses_completed": answered}
                sample.drain_s = round(drained, 2)
            samples.append(sample)
            extra = "" if not sample.tasks else (
                f"  tasks counted: {sample.tasks} (tasks run {seen}, requests sent {sent}, "
                f"responses {answered}; drained {drained:.2f}s after wrk)")
            errs = f"  non2xx={res.non2xx} sockerr={res.socket_errors}" if res.non2xx or res.socket_errors else ""
            print(f"  {server.name:{args.name_width}} {rname:{args.route_width}} {res.rps:10.0f} req/s  "
                  f"p50 {res.p50_ms:7.3f} ms  "
                  f"p99 {res.p99_ms:7.3f} ms  cpu {sample.cpu_us_per_req:7.1f} us/req  "
                  f"hwm {sample.peak_rss_mib:6.1f} MiB{errs}{extra}", flush=True)
            if srv.proc.poll() is not None:
                raise ServerStartError(f"died during the {rname} run (code {srv.proc.returncode}):\n"
                                       + srv.log_tail())
    finally:
        srv.stop()
    return samples


def median_rows(samples: list[Sample]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    keys = list(dict.fromkeys((s.server, s.route) for s in samples))
    for server, route in keys:
        group = [s for s in samples if s.server == server and s.route == route]
        row: dict[str, Any] = {"server": server, "route": route, "rounds": len(group)}
        for metric in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "peak_rss_mib", "rss_after_mib"):
            row[metric] = statistics.median(getattr(s, metric) for s in group)
        row["requests_total"] = sum(s.requests for s in group)
        row["errors_total"] = sum(s.non2xx + s.socket_errors for s in group)
        tasks = [s.tasks for s in group if s.tasks is not None]
        row["tasks"] = None if not tasks else ("ok" if all(t == "ok" for t in tasks) else "; ".join(tasks))
        drains = [s.drain_s for s in group if s.drain_s is not None]
        row["drain_s"] = statistics.median(drains) if drains else None
        rows.append(row)
    return rows


RATIO_METRICS = ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "peak_rss_mib")


def add_ratios(rows: list[dict[str, Any]]) -> None:
    def find(server: str, route: str) -> dict[str, Any] | None:
        return next((r for r in rows if r["server"] == server and r["route"] == route), None)

    raw = find("raw", "hello")
    for row in rows:
        bases = [("vs_fastapi", find("fastapi", row["route"])), ("vs_raw_hello", raw)]
        if row["route"] != "hello":
            # NOTE: only for routes raw serves (pipeline, body); hello rows have it as vs_raw_hello.
            bases.append(("vs_raw_route", find("raw", row["route"])))
        for label, base in bases:
            row[label] = None if base is None else {
                m: (row[m] / base[m] if base[m] else None) for m in RATIO_METRICS}


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def print_report(rows: list[dict[str, Any]]) -> None:
    sw = max([8, *(len(r["server"]) for r in rows)])
    rw = max([6, *(len(r["route"]) for r in rows)])
    head = (f"{'server':{sw}} {'route':{rw}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10} "
            f"{'peak MiB':>8} {'rss MiB':>8} {'errs':>5}  tasks counted")
    print(f"\nMedians over rounds (server on CPU {SERVER_CPU}, wrk -t{WRK_THREADS} on CPU {WRK_CPU})")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['server']:{sw}} {r['route']:{rw}} {r['rps']:9.0f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} "
              f"{r['cpu_us_per_req']:10.1f} {r['peak_rss_mib']:8.1f} {r['rss_after_mib']:8.1f} "
              f"{r['errors_total']:5d}  {r['tasks'] or '-'}"
              + (f" (drained {r['drain_s']:.1f}s after wrk)" if r["drain_s"] is not None else ""))
    names = ("req/s", "p50", "p99", "cpu/req", "peak")
    tables = [("vs_fastapi", "Ratio to FastAPI, same route (req/s: higher is better; others: lower)"),
              ("vs_raw_hello", "Ratio to raw ceiling, hello route")]
    if any(r.get("vs_raw_route") for r in rows):
        tables.append(("vs_raw_route", "Ratio to raw ceiling, same route (pipeline, body)"))
    for label, title in tables:
        print(f"\n{title}")
        print(f"{'server':{sw}} {'route':{rw}} " + " ".join(f"{n:>8}" for n in names))
        for r in rows:
            if label == "vs_raw_route" and r["route"] == "hello":
                continue
            ratios = r.get(label) or {}
            print(f"{r['server']:{sw}} {r['route']:{rw}} " + " ".join(f"{_fmt_ratio(ratios.get(m)):>8}"
                                                                       for m in RATIO_METRICS))


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "python": sys.version.split()[0], "clk_tck": CLK_TCK}


def versions(python: str, mods: str) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys\nout={}\n"
            f"for n in {mods.split()!r}:\n"
            "    try: out[n]=m.version(n)\n    except Exception: out[n]='-'\nprint(json.dumps(out))")
    try:
        proc = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
        return json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", default="raw,fastapi,zigmund",
                   help="comma list of: " + ",".join(SERVERS) + "; or 'all'")
    p.add_argument("--routes", default="hello,items,post",
                   help="comma list of: " + ",".join(ROUTES) + "; or 'all'")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured wrk run (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    p.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of wrk warm-up before each run (default 1)")
    p.add_argument("--drain", type=float, default=1.0,
                   help="minimum seconds after wrk before reading CPU (default 1)")
    p.add_argument("--drain-timeout", type=float, default=60.0,
                   help="max seconds to wait for queued background tasks to finish (default 60)")
    p.add_argument("--peer-python", default=sys.executable,
                   help="interpreter with fastapi/uvicorn/uvloop/httptools, for fastapi and raw (default: this one)")
    p.add_argument("--zigmund-python", default=sys.executable,
                   help="interpreter with zigmund_fast installed (default: this one)")
    p.add_argument("--zigmund-args", default="--log-level warning",
                   help="extra arguments for 'zigmund serve', given as --zigmund-args='...' "
                   "(default: '--log-level warning')")
    p.add_argument("--zigmund-baseline", type=Path, default=None,
                   help="a zigmund_fast checkout built in place (setup.py build_ext --inplace) served as "
                   "'zigmund-baseline', for before/after comparisons")
    p.add_argument("--start-timeout", type=float, default=20.0, help="seconds to wait for a server's port")
    p.add_argument("--server-args", action="append", default=[], metavar="NAME=ARGS",
                   help="extra command-line arguments for one server, e.g. "
                   "--server-args='granian-asgi=--http1-pipeline-flush' (repeatable)")
    p.add_argument("--server-cpus", default=SERVER_CPU,
                   help="taskset CPU list for the servers (default 0); e.g. 0,1 for the --workers scaling run")
    p.add_argument("--wrk-cpus", default=WRK_CPU, help="taskset CPU list for wrk (default 1)")
    p.add_argument("--wrk-threads", type=int, default=WRK_THREADS, help="wrk -t (default 1)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    p.add_argument("--no-plot", action="store_true",
                   help=f"don't draw {PLOT_NAME} (next to --output) with plot.py at the end")
    args = p.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    if args.servers == ["all"]:
        args.servers = [s for s in SERVERS if s not in ("zigmund-w2", "zigmund-sink-cached")
                        and (s != "zigmund-baseline" or args.zigmund_baseline is not None)]
    if args.routes == ["all"]:
        args.routes = list(ROUTES)
    extra: dict[str, str] = {}
    for item in args.server_args:
        name, sep, value = item.partition("=")
        if not sep or name not in SERVERS:
            p.error(f"--server-args wants NAME=ARGS with NAME one of {', '.join(SERVERS)}, got {item!r}")
        extra[name] = value
    args.server_args = extra
    if "zigmund-baseline" in args.servers and args.zigmund_baseline is None:
        p.error("the zigmund-baseline server needs --zigmund-baseline DIR")
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s!r} (choose from {', '.join(SERVERS)})")
    for r in args.routes:
        if r not in ROUTES:
            p.error(f"unknown route {r!r} (choose from {', '.join(ROUTES)})")
    if args.rounds < 1 or args.duration <= 0:
        p.error("--rounds must be >= 1 and --duration > 0")
    args.name_width = max([8, *(len(s) for s in args.servers)])
    args.route_width = max([6, *(len(r) for r in args.routes)])
    return args


def preflight(server: Server, args: argparse.Namespace) -> str | None:
    python = getattr(args, PYTHON_OF.get(server.name, "peer_python"))
    try:
        proc = subprocess.run([python, "-c", server.preflight], cwd=REPO_ROOT, check=False, capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}"
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return f"import check failed with {python}: {err[-1] if err else f'exit {proc.returncode}'}"
    return None


def main(argv: list[str] | None = None) -> int:
    global SERVER_CPU, WRK_CPU, WRK_THREADS
    args = parse_args(argv)
    SERVER_CPU, WRK_CPU, WRK_THREADS = args.server_cpus, args.wrk_cpus, args.wrk_threads
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found on PATH", file=sys.stderr)
            return 2
    servers: list[Server] = []
    skipped: dict[str, str] = {}
    for name in args.servers:
        if not set(SERVERS[name].routes) & set(args.routes):
            skipped[name] = f"serves none of the routes {','.join(args.routes)} (it has {','.join(SERVERS[name].routes)})"
            print(f"SKIP {name}: {skipped[name]}", flush=True)
            continue
        problem = preflight(SERVERS[name], args)
        if problem:
            skipped[name] = problem
            print(f"SKIP {name}: {problem}", flush=True)
        else:
            servers.append(SERVERS[name])
    if not servers:
        print("error: no server could be imported; nothing to benchmark", file=sys.stderr)
        return 1
    print(f"machine: {machine()}\nservers: {[s.name for s in servers]}  routes: {args.routes}  "
          f"duration {args.duration:g}s  rounds {args.rounds}  connections {args.connections}", flush=True)

    samples: list[Sample] = []
    broken_routes: set[tuple[str, str]] = set()
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="zigbench-") as tmp:
        for rnd in range(args.rounds):
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
            print(f"round {rnd + 1}/{args.rounds}: {' -> '.join(s.name for s in order)}", flush=True)
            for server in order:
                if server.name in skipped:
                    continue
                try:
                    samples += bench_server(server, args, rnd, Path(tmp), broken_routes)
                except ServerStartError as exc:
                    lines = [ln.strip(" |") for ln in str(exc).splitlines()]
                    skipped[server.name] = lines[0].rstrip(":") + (f" -- {lines[-1]}" if len(lines) > 1 else "")
                    print(f"SKIP {server.name}: {exc}", flush=True)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                    print(f"  {server.name}: run failed: {exc}", flush=True)

    rows = median_rows(samples)
    add_ratios(rows)
    if rows:
        print_report(rows)
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")

    result = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"servers": args.servers, "routes": args.routes, "duration_s": args.duration,
                   "rounds": args.rounds, "connections": args.connections, "warmup_s": args.warmup,
                   "drain_s": args.drain, "drain_timeout_s": args.drain_timeout,
                   "server_cpu": SERVER_CPU, "wrk_cpu": WRK_CPU, "wrk_threads": WRK_THREADS,
                   "peer_python": args.peer_python, "zigmund_python": args.zigmund_python,
                   "zigmund_args": args.zigmund_args, "server_args": args.server_args,
                   "pipeline_depth": PIPELINE_DEPTH},
        "versions": {"peer": versions(args.peer_python, PEER_PACKAGES),
                     "zigmund": versions(args.zigmund_python, "zigmund-fast uvloop httptools msgspec")},
        "skipped": skipped,
        "results": rows,
        "samples": [asdict(s) for s in samples],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    if rows and not args.no_plot:
        draw_plot(args.output)
    return 0 if samples else 1


def draw_plot(results: Path) -> None:
    """Run plot.py on the results just written, with this interpreter, if it has matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        print(f"no plot: matplotlib is not installed for {sys.executable} (pip install matplotlib)")
        return
    png = results.parent / PLOT_NAME
    proc = subprocess.run([sys.executable, str(PLOT_SCRIPT), "--input", str(results), "--output", str(png)],
                          check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        err = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        print(f"plot failed: {err[-1] if err else f'exit {proc.returncode}'}")
    else:
        print(f"wrote {png}")


if __name__ == "__main__":
    sys.exit(main())

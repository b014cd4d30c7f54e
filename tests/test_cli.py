"""The zigmund command: readable errors for bad targets, and the seed example served as the README says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zigmund_fast

from .conftest import read_response

REPO = Path(__file__).resolve().parent.parent
PACKAGE_PARENT = str(Path(zigmund_fast.__file__).resolve().parent.parent)


def env() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, environment.get("PYTHONPATH")]))
    return environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early: {proc.communicate()}") from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def request(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        response = read_response(sock)
    return response.status, dict(response.headers), response.body


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nocolon", "MODULE:ATTR"),
        ("no_such_module_xyz:app", "could not import module"),
        ("json:app", "has no attribute"),
        ("json:dumps", "not a zigmund_fast.App"),
    ],
)
def test_bad_targets_exit_2_with_a_readable_message(tmp_path: Path, target: str, message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "zigmund_fast", "serve", target], cwd=tmp_path, env=env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_options_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "zigmund_fast", "serve", "x:app", "--workers", "0"],
                            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2


def zigmund_command() -> list[str]:
    """The installed ``zigmund`` console script, as the README runs it.

    NOTE: ``python -m zigmund_fast`` run from the repository root would import the
    unbuilt source tree (the current directory comes first on sys.path); the
    console script imports the installed package before adding the directory.
    """
    script = Path(sys.executable).parent / "zigmund"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zigmund_fast"]


def test_serves_the_seed_example_from_the_repository() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*zigmund_command(), "serve", "examples.background_tasks:app", "--port", str(port)],
        cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, proc)
        status, _, body = request(port, b"POST /tutorial/background-tasks/notifications HTTP/1.1\r\n"
                                        b"Host: t\r\nContent-Length: 0\r\n\r\n")
        assert (status, json.loads(body)) == (200, {"queued": True})
        status, _, body = request(port, b"GET /tutorial/background-tasks/stats HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, json.loads(body)) == (200, {"notifications_sent": 1})
        status, headers, body = request(port, b"GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
        document = json.loads(body)
        assert document["openapi"] == "3.1.0"
        post = document["paths"]["/tutorial/background-tasks/notifications"]["post"]
        get = document["paths"]["/tutorial/background-tasks/stats"]["get"]
        assert post["summary"] == "Queue a background notification task"
        assert get["summary"] == "Inspect background task side effects"
        assert post["tags"] == get["tags"] == ["parity", "tutorial"]
        status, headers, body = request(port, b"GET /docs HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == 200 and b"/docs/assets/swagger-ui-bundle.js" in body
        status, headers, body = request(port, b"GET /docs/assets/swagger-ui-bundle.js HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status == 200 and headers["content-type"].startswith("text/javascript") and len(body) > 100_000
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert f"http://127.0.0.1:{port}" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_app_serve_from_code_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    script = tmp_path / "served.py"
    script.write_text(
        "import zigmund_fast as zigmund\n"
        "app = zigmund.App()\n"
        "app.get('/', lambda: {'from': 'code'})\n"
        f"raise SystemExit(app.serve(host='127.0.0.1', port={port}))\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, proc)
        status, _, body = request(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, json.loads(body)) == (200, {"from": "code"})
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("zigmund") == "zigmund_fast.cli:main"

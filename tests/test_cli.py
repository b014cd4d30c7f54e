"""The zigmund command: readable errors for bad targets, and the seed example served as the README says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import zigmund_fast

from .conftest import read_response

REPO = Path(__file__).resolve().parent.parent
# The directory holding the zigmund_fast package under test, for the children's PYTHONPATH.
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
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early: {proc.communicate()}") from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def request(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.settimeout(10)
        sock.sendall(raw)
        response = read_response(sock)
    return response.status, dict(response.headers), response.body


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    return request(port, b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.communicate(timeout=10)
    except (ValueError, subprocess.TimeoutExpired):
        pass


# Bad targets


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "notanapp.py").write_text("app = 42\nclass Holder:\n    pass\n")
    (tmp_path / "brokenimport.py").write_text("import no_such_dependency_xyz\n")
    return tmp_path


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nocolon", "MODULE:ATTR"),
        (":app", "MODULE:ATTR"),
        ("notanapp:", "MODULE:ATTR"),
        ("no_such_module_xyz:app", "could not import module 'no_such_module_xyz'"),
        ("no_such_package_xyz.sub:app", "could not import module"),
        ("json:app", "has no attribute 'app'"),
        ("notanapp:missing", "has no attribute 'missing'"),
        ("notanapp:Holder.missing", "has no attribute"),
        ("json:dumps", "not a zigmund_fast.App"),
        ("notanapp:app", "is a int, not a zigmund_fast.App"),
    ],
)
def test_bad_targets_exit_2_with_a_readable_message(app_dir: Path, target: str, message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "zigmund_fast", "serve", target], cwd=app_dir, env=env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("zigmund: error:"), result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_script_reports_bad_targets_the_same_way(app_dir: Path) -> None:
    script = Path(sys.executable).parent / "zigmund"
    if not script.exists():
        pytest.skip("the zigmund console script is not installed next to this interpreter")
    result = subprocess.run([str(script), "serve", "notanapp:app"], cwd=app_dir, env=env(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "not a zigmund_fast.App" in result.stderr and "Traceback" not in result.stderr


def test_an_import_error_inside_the_app_module_is_not_reported_as_a_missing_module(app_dir: Path) -> None:
    # The module exists; what it imports does not. That is the app's bug, and the real error must show.
    result = subprocess.run([sys.executable, "-m", "zigmund_fast", "serve", "brokenimport:app"], cwd=app_dir,
                            env=env(), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "no_such_dependency_xyz" in result.stderr


def test_bad_options_exit_2(tmp_path: Path) -> None:
    for args in (["--workers", "0"], ["--port", "not-a-number"], ["--port", "70000"]):
        result = subprocess.run([sys.executable, "-m", "zigmund_fast", "serve", "x:app", *args],
                                cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


# The seed example, served from the repository


def zigmund_command() -> list[str]:
    """The installed ``zigmund`` console script, as the README runs it.

    NOTE: ``python -m zigmund_fast`` run from the repository root would import the
    unbuilt source tree (the current directory comes first on sys.path); the
    console script imports the installed package before adding the directory.
    """
    script = Path(sys.executable).parent / "zigmund"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zigmund_fast"]


@pytest.fixture
def seed_server() -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [*zigmund_command(), "serve", "examples.background_tasks:app", "--port", str(port)],
        cwd=REPO, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, proc)
        yield port, proc
    finally:
        stop(proc)


def test_serves_the_seed_example_tasks(seed_server: tuple[int, subprocess.Popen[str]]) -> None:
    port, proc = seed_server
    status, _, body = get(port, "/tutorial/background-tasks/stats")
    assert (status, json.loads(body)) == (200, {"notifications_sent": 0})
    status, headers, body = request(port, b"POST /tutorial/background-tasks/notifications HTTP/1.1\r\n"
                                          b"Host: t\r\nContent-Length: 0\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"queued": True})
    assert headers["content-type"].startswith("application/json")
    status, _, body = get(port, "/tutorial/background-tasks/stats")
    assert (status, json.loads(body)) == (200, {"notifications_sent": 1})
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert f"http://127.0.0.1:{port}" in stderr


def test_serves_the_seed_example_openapi_and_docs(seed_server: tuple[int, subprocess.Popen[str]]) -> None:
    port, _ = seed_server
    status, headers, body = get(port, "/openapi.json")
    assert status == 200, body[:500]
    assert headers["content-type"].startswith("application/json")
    document = json.loads(body)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Tutorial" and document["info"]["version"] == "0.1.0"
    post = document["paths"]["/tutorial/background-tasks/notifications"]["post"]
    stats = document["paths"]["/tutorial/background-tasks/stats"]["get"]
    assert post["summary"] == "Queue a background notification task"
    assert stats["summary"] == "Inspect background task side effects"
    assert post["tags"] == stats["tags"] == ["parity", "tutorial"]
    assert "/openapi.json" not in document["paths"] and "/docs" not in document["paths"]

    status, headers, body = get(port, "/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"/docs/assets/swagger-ui-bundle.js" in body
    assert b"/openapi.json" in body
    status, headers, body = get(port, "/docs/assets/swagger-ui-bundle.js")
    assert status == 200
    assert "javascript" in headers["content-type"]
    assert len(body) > 100_000  # the real bundle, not a stub


def test_app_serve_from_code_serves_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "tasks.log"
    script = tmp_path / "served.py"
    script.write_text(
        "import asyncio\n"
        "import zigmund_fast as zigmund\n"
        "app = zigmund.App()\n"
        "async def later():\n"
        "    await asyncio.sleep(0.3)\n"
        f"    open({str(log)!r}, 'a').write('task ran\\n')\n"
        "@app.post('/queue')\n"
        "async def queue(tasks: zigmund.BackgroundTasks):\n"
        "    tasks.add(later)\n"
        "    return {'from': 'code'}\n"
        f"raise SystemExit(app.serve(host='127.0.0.1', port={port}))\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, proc)
        status, _, body = request(port, b"POST /queue HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert (status, json.loads(body)) == (200, {"from": "code"})
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert log.read_text() == "task ran\n"  # the task queued before SIGTERM ran before the exit
    finally:
        stop(proc)


def test_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("zigmund") == "zigmund_fast.cli:main"


def test_routes_and_openapi_commands_print_the_app() -> None:
    routes = subprocess.run([*zigmund_command(), "routes", "examples.background_tasks:app"], cwd=REPO, env=env(),
                            capture_output=True, text=True, timeout=30)
    assert routes.returncode == 0, routes.stderr
    lines = routes.stdout.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "HANDLER"]
    assert any(line.split() == ["POST", "/tutorial/background-tasks/notifications", "queue_notification"]
               for line in lines)
    document = subprocess.run([*zigmund_command(), "openapi", "examples.background_tasks:app"], cwd=REPO,
                              env=env(), capture_output=True, text=True, timeout=30)
    assert document.returncode == 0, document.stderr
    parsed = json.loads(document.stdout)
    assert parsed["openapi"] == "3.1.0"
    assert "/tutorial/background-tasks/stats" in parsed["paths"]
    bad = subprocess.run([*zigmund_command(), "routes", "nocolon"], cwd=REPO, env=env(), capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "MODULE:ATTR" in bad.stderr


def test_access_log_flag_writes_one_line_per_request() -> None:
    port = free_port()
    proc = subprocess.Popen([*zigmund_command(), "serve", "examples.background_tasks:app", "--port", str(port),
                             "--access-log"], cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for_port(port, proc)
        request(port, b"GET /tutorial/background-tasks/stats HTTP/1.1\r\nHost: t\r\n\r\n")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert '"GET /tutorial/background-tasks/stats HTTP/1.1" 200' in stderr


def test_python_dash_m_works_from_the_repository_root() -> None:
    """From the checkout, `python -m zigmund_fast` imports the checkout's package; it must still find built code."""
    result = subprocess.run([sys.executable, "-m", "zigmund_fast", "routes", "examples.background_tasks:app"],
                            cwd=REPO, env=env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "/tutorial/background-tasks/notifications" in result.stdout

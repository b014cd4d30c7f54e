"""FastAPI tutorial, "Background Tasks": tutorial001 (a task writing a file) and tutorial002 (tasks added
by a dependency and by the handler, run in that order). The log file lives in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zigmund_fast import App, BackgroundTasks, Depends
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def background_tasks_tutorial001(log_file: Path) -> App:
    def write_notification(email: str, message: str = "") -> None:
        with open(log_file, mode="w") as email_file:
            content = f"notification for {email}: {message}"
            email_file.write(content)

    app = App()

    @app.post("/send-notification/{email}")
    async def send_notification(email: str, background_tasks: BackgroundTasks) -> dict[str, Any]:
        background_tasks.add_task(write_notification, email, message="some notification")
        return {"message": "Notification sent in the background"}

    return app


def background_tasks_tutorial002(log_file: Path) -> App:
    def write_log(message: str) -> None:
        with open(log_file, mode="a") as log:
            log.write(message)

    def get_query(background_tasks: BackgroundTasks, q: str | None = None) -> str | None:
        if q:
            message = f"found query: {q}\n"
            background_tasks.add_task(write_log, message)
        return q

    app = App()

    @app.post("/send-notification/{email}")
    async def send_notification(
        # NOTE: the default-value form of Depends: a string annotation can't name this factory's local.
        email: str, background_tasks: BackgroundTasks, q: str = Depends(get_query),
    ) -> dict[str, Any]:
        message = f"message to {email}\n"
        background_tasks.add_task(write_log, message)
        return {"message": "Message sent"}

    return app


def test_tutorial001_the_task_has_run_when_the_client_returns(tmp_path: Path) -> None:
    log_file = tmp_path / "log.txt"
    with TestClient(background_tasks_tutorial001(log_file)) as client:
        response = client.post("/send-notification/foo@example.com")
    assert (response.status_code, response.json()) == (200, {"message": "Notification sent in the background"})
    assert log_file.read_text() == "notification for foo@example.com: some notification"


def test_tutorial002_dependency_tasks_run_before_handler_tasks(tmp_path: Path) -> None:
    log_file = tmp_path / "log.txt"
    with TestClient(background_tasks_tutorial002(log_file)) as client:
        with_query = client.post("/send-notification/foo@example.com?q=some-query")
        without = client.post("/send-notification/bar@example.com")
    assert (with_query.status_code, with_query.json()) == (200, {"message": "Message sent"})
    assert (without.status_code, without.json()) == (200, {"message": "Message sent"})
    assert log_file.read_text() == "found query: some-query\nmessage to foo@example.com\nmessage to bar@example.com\n"


def test_tutorial001_over_a_real_socket(serve: Any, tmp_path: Path) -> None:
    log_file = tmp_path / "log.txt"
    server = serve(background_tasks_tutorial001(log_file))
    with server.connect() as sock:
        sock.sendall(b"POST /send-notification/foo@example.com HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
    server.stop()  # a graceful shutdown runs every queued task before it returns
    assert response.status == 200
    assert response.body == b'{"message":"Notification sent in the background"}'
    assert log_file.read_text() == "notification for foo@example.com: some notification"

"""Other listeners: a Unix domain socket, and HTTPS through the stdlib ssl module."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.server.config import Config

from ..conftest import read_response


def make_app() -> App:
    app = App()
    app.get("/who", lambda: {"hello": "listener"})
    return app


def test_unix_domain_socket(serve: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "zig.sock")
    serve(make_app(), uds=path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET /who HTTP/1.1\r\nHost: t\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200 and response.body == b'{"hello":"listener"}'


def test_uds_with_several_workers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--uds"):
        Config(app=make_app(), uds=str(tmp_path / "s"), workers=2)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https(serve: Any, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    server = serve(make_app(), ssl_certfile=str(cert), ssl_keyfile=str(key))
    context = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            for _ in range(2):  # keep-alive over TLS
                sock.sendall(b"GET /who HTTP/1.1\r\nHost: localhost\r\n\r\n")
                response = read_response(sock)  # type: ignore[arg-type]
                assert response.status == 200 and response.body == b'{"hello":"listener"}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as plain:
        plain.sendall(b"GET /who HTTP/1.1\r\nHost: t\r\n\r\n")
        plain.settimeout(5)
        assert not plain.recv(1024).startswith(b"HTTP/1.1 200")  # no plaintext on the TLS port

"""Other listeners: a Unix domain socket, and HTTPS through the stdlib ssl module."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from zigmund_fast import App, Request
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


def test_uds_and_fd_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--uds or --fd"):
        Config(app=make_app(), uds=str(tmp_path / "s"), fd=3)


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


def proxy_app() -> App:
    app = App()

    @app.get("/whoami")
    async def whoami(req: Request) -> dict[str, Any]:
        return {"client": req.client[0] if req.client else None, "scheme": req.scheme, "url": req.url}

    return app


PROXIED = (b"GET /whoami HTTP/1.1\r\nHost: example.com\r\n"
           b"X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Forwarded-Proto: https\r\n\r\n")


def whoami(server: Any) -> dict[str, Any]:
    import json

    with server.connect() as sock:
        sock.sendall(PROXIED)
        return json.loads(read_response(sock).body)  # type: ignore[no-any-return]


def test_proxy_headers_from_a_trusted_proxy(serve: Any) -> None:
    server = serve(proxy_app(), proxy_headers=True, forwarded_allow_ips="127.0.0.1,10.0.0.2")
    # 10.0.0.2 is a trusted hop too, so the client is the address before it.
    assert whoami(server) == {"client": "203.0.113.7", "scheme": "https", "url": "https://example.com/whoami"}


def test_proxy_headers_ignored_from_an_untrusted_peer(serve: Any) -> None:
    server = serve(proxy_app(), proxy_headers=True, forwarded_allow_ips="192.0.2.1")
    assert whoami(server) == {"client": "127.0.0.1", "scheme": "http", "url": "http://example.com/whoami"}


def test_proxy_headers_off_by_default(serve: Any) -> None:
    assert whoami(serve(proxy_app()))["client"] == "127.0.0.1"


def test_a_spoofed_hop_before_an_untrusted_one_is_not_believed(serve: Any) -> None:
    import json

    server = serve(proxy_app(), proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    with server.connect() as sock:
        sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1, 198.51.100.9\r\n\r\n")
        assert json.loads(read_response(sock).body)["client"] == "198.51.100.9"

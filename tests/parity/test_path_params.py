"""FastAPI tutorial, "Path Parameters": tutorial001-005 (untyped, int, route order, :path, Enum)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest

from zigmund_fast import App
from zigmund_fast.testing import TestClient

from ..conftest import read_response


def path_params_tutorial001() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id):  # type: ignore[no-untyped-def]  # untyped on purpose: a str
        return {"item_id": item_id}

    return app


def path_params_tutorial002() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        return {"item_id": item_id}

    return app


def path_params_tutorial003() -> App:
    app = App()

    @app.get("/users/me")
    async def read_user_me() -> dict[str, Any]:
        return {"user_id": "the current user"}

    @app.get("/users/{user_id}")
    async def read_user(user_id: str) -> dict[str, Any]:
        return {"user_id": user_id}

    return app


def path_params_tutorial004() -> App:
    app = App()

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str) -> dict[str, Any]:
        return {"file_path": file_path}

    return app


class ModelName(str, Enum):
    alexnet = "alexnet"
    resnet = "resnet"
    lenet = "lenet"


def path_params_tutorial005() -> App:
    app = App()

    @app.get("/models/{model_name}")
    async def get_model(model_name: ModelName) -> dict[str, Any]:
        if model_name is ModelName.alexnet:
            return {"model_name": model_name, "message": "Deep Learning FTW!"}
        if model_name.value == "lenet":
            return {"model_name": model_name, "message": "LeCNN all the images"}
        return {"model_name": model_name, "message": "Have some residuals"}

    return app


@pytest.mark.parametrize("raw", ["foo", "42"])
def test_tutorial001_an_untyped_parameter_is_a_string(raw: str) -> None:
    with TestClient(path_params_tutorial001()) as client:
        response = client.get(f"/items/{raw}")
    assert response.status_code == 200
    assert response.json() == {"item_id": raw}


def test_tutorial002_converts_to_int() -> None:
    with TestClient(path_params_tutorial002()) as client:
        response = client.get("/items/3")
    assert response.status_code == 200
    assert response.json() == {"item_id": 3}


@pytest.mark.parametrize("raw", ["foo", "4.2"])
def test_tutorial002_rejects_what_is_not_an_int(raw: str) -> None:
    with TestClient(path_params_tutorial002()) as client:
        response = client.get(f"/items/{raw}")
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "int_parsing", "loc": ["path", "item_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer", "input": raw,
    }]}


def test_tutorial002_without_the_parameter_is_404() -> None:
    with TestClient(path_params_tutorial002()) as client:
        response = client.get("/items/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_tutorial003_fixed_path_declared_first_wins() -> None:
    with TestClient(path_params_tutorial003()) as client:
        me = client.get("/users/me")
        alice = client.get("/users/alice")
    assert (me.status_code, me.json()) == (200, {"user_id": "the current user"})
    assert (alice.status_code, alice.json()) == (200, {"user_id": "alice"})


@pytest.mark.parametrize(("url", "expected"), [
    ("/files/home/johndoe/myfile.txt", "home/johndoe/myfile.txt"),
    ("/files//home/johndoe/myfile.txt", "/home/johndoe/myfile.txt"),
])
def test_tutorial004_path_converter_keeps_slashes(url: str, expected: str) -> None:
    with TestClient(path_params_tutorial004()) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"file_path": expected}


@pytest.mark.parametrize(("name", "message"), [
    ("alexnet", "Deep Learning FTW!"),
    ("lenet", "LeCNN all the images"),
    ("resnet", "Have some residuals"),
])
def test_tutorial005_enum_values(name: str, message: str) -> None:
    with TestClient(path_params_tutorial005()) as client:
        response = client.get(f"/models/{name}")
    assert response.status_code == 200
    assert response.json() == {"model_name": name, "message": message}


def test_tutorial005_a_value_outside_the_enum_is_422() -> None:
    with TestClient(path_params_tutorial005()) as client:
        response = client.get("/models/foo")
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "enum", "loc": ["path", "model_name"], "msg": "Input should be 'alexnet', 'resnet' or 'lenet'",
        "input": "foo", "ctx": {"expected": "'alexnet', 'resnet' or 'lenet'"},
    }]}


def test_tutorial002_over_a_real_socket(serve: Any) -> None:
    server = serve(path_params_tutorial002())
    with server.connect() as sock:
        sock.sendall(b"GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/foo HTTP/1.1\r\nHost: x\r\n\r\n")
        buffer = bytearray()
        ok = read_response(sock, buffer=buffer)
        bad = read_response(sock, buffer=buffer)
    assert (ok.status, ok.body) == (200, b'{"item_id":3}')
    assert bad.status == 422
    assert b'"loc":["path","item_id"]' in bad.body and b'"type":"int_parsing"' in bad.body

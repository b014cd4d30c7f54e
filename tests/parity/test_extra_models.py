"""FastAPI tutorial, "Extra Models": tutorial001/002 (in, out and db models), 003 (a union response
model), 004 (a list of models), 005 (an arbitrary dict).

A pydantic union discriminated by a ``type`` field is a tagged msgspec union (``tag_field="type"``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from zigmund_fast import App
from zigmund_fast.testing import TestClient


class UserIn(msgspec.Struct, kw_only=True):
    username: str
    password: str
    email: str
    full_name: str | None = None


class UserOut(msgspec.Struct, kw_only=True):
    username: str
    email: str
    full_name: str | None = None


class UserInDB(msgspec.Struct, kw_only=True):
    username: str
    hashed_password: str
    email: str
    full_name: str | None = None


def extra_models_tutorial002(saved: list[UserInDB]) -> App:
    def fake_password_hasher(raw_password: str) -> str:
        return "supersecret" + raw_password

    def fake_save_user(user_in: UserIn) -> UserInDB:
        fields = msgspec.structs.asdict(user_in)
        hashed_password = fake_password_hasher(fields.pop("password"))
        user_in_db = UserInDB(**fields, hashed_password=hashed_password)
        saved.append(user_in_db)
        return user_in_db

    app = App()

    @app.post("/user/", response_model=UserOut)
    async def create_user(user_in: UserIn) -> Any:
        return fake_save_user(user_in)

    return app


class BaseItem(msgspec.Struct, tag_field="type"):
    description: str


class CarItem(BaseItem, tag="car"):
    pass


class PlaneItem(BaseItem, tag="plane"):
    size: int


UNION_ITEMS: dict[str, dict[str, Any]] = {
    "item1": {"description": "All my friends drive a low rider", "type": "car"},
    "item2": {"description": "Music is my aeroplane, it's my aeroplane", "type": "plane", "size": 5},
}


def extra_models_tutorial003() -> App:
    app = App()

    @app.get("/items/{item_id}", response_model=PlaneItem | CarItem)
    async def read_item(item_id: str) -> Any:
        return UNION_ITEMS[item_id]

    return app


class Item(msgspec.Struct):
    name: str
    description: str


def extra_models_tutorial004_005() -> App:
    app = App()

    @app.get("/items/", response_model=list[Item])
    async def read_items() -> Any:
        return [{"name": "Foo", "description": "There comes my hero"},
                {"name": "Red", "description": "It's my aeroplane"}]

    @app.get("/keyword-weights/", response_model=dict[str, float])
    async def read_keyword_weights() -> Any:
        return {"foo": 2.3, "bar": 3.4}

    return app


def test_tutorial002_saved_with_a_hash_answered_without_it() -> None:
    saved: list[UserInDB] = []
    with TestClient(extra_models_tutorial002(saved)) as client:
        response = client.post("/user/", json={"username": "johndoe", "password": "secret",
                                               "email": "johndoe@example.com", "full_name": "John Doe"})
    assert response.status_code == 200
    assert response.json() == {"username": "johndoe", "email": "johndoe@example.com", "full_name": "John Doe"}
    assert saved == [UserInDB(username="johndoe", hashed_password="supersecretsecret", email="johndoe@example.com",
                              full_name="John Doe")]


def test_tutorial003_union_response_model() -> None:
    with TestClient(extra_models_tutorial003()) as client:
        car = client.get("/items/item1")
        plane = client.get("/items/item2")
    assert (car.status_code, car.json()) == (200, {"description": "All my friends drive a low rider", "type": "car"})
    assert plane.status_code == 200
    assert plane.json() == {"description": "Music is my aeroplane, it's my aeroplane", "type": "plane", "size": 5}


def test_tutorial004_list_response_model() -> None:
    with TestClient(extra_models_tutorial004_005()) as client:
        response = client.get("/items/")
    assert response.status_code == 200
    assert response.json() == [{"name": "Foo", "description": "There comes my hero"},
                               {"name": "Red", "description": "It's my aeroplane"}]


def test_tutorial005_dict_response_model() -> None:
    with TestClient(extra_models_tutorial004_005()) as client:
        response = client.get("/keyword-weights/")
    assert (response.status_code, response.json()) == (200, {"foo": 2.3, "bar": 3.4})

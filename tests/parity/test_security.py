"""FastAPI tutorial, "Security": First Steps (tutorial001), Get Current User (tutorial002), Simple OAuth2
with Password and Bearer (tutorial003), HTTP Basic Auth (tutorial007)."""

from __future__ import annotations

import base64
import secrets
from typing import Annotated, Any

import msgspec
import pytest

from zigmund_fast import App, Depends, HTTPException
from zigmund_fast.security import (
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
)
from zigmund_fast.testing import TestClient

from ..conftest import read_response
from ._helpers import assert_422, form_body, missing

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
BEARER_CHALLENGE = "Bearer"


def security_tutorial001() -> App:
    app = App()

    @app.get("/items/")
    async def read_items(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, Any]:
        return {"token": token}

    return app


class User(msgspec.Struct, kw_only=True):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


def fake_decode_token(token: str) -> User:
    return User(username=token + "fakedecoded", email="john@example.com", full_name="John Doe")


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    return fake_decode_token(token)


def security_tutorial002() -> App:
    app = App()

    @app.get("/users/me")
    async def read_users_me(current_user: Annotated[User, Depends(get_current_user)]) -> Any:
        return current_user

    return app


FAKE_USERS_DB = {
    "johndoe": {"username": "johndoe", "full_name": "John Doe", "email": "johndoe@example.com",
                "hashed_password": "fakehashedsecret", "disabled": False},
    "alice": {"username": "alice", "full_name": "Alice Wonderson", "email": "alice@example.com",
              "hashed_password": "fakehashedsecret2", "disabled": True},
}


class UserInDB(User, kw_only=True):
    hashed_password: str


def fake_hash_password(password: str) -> str:
    return "fakehashed" + password


def get_user(db: dict[str, dict[str, Any]], username: str) -> UserInDB | None:
    if username in db:
        return UserInDB(**db[username])
    return None


async def get_current_user_from_db(token: Annotated[str, Depends(oauth2_scheme)]) -> UserInDB:
    user = get_user(FAKE_USERS_DB, token)
    if not user:
        raise HTTPException(status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return user


async def get_current_active_user(current_user: Annotated[User, Depends(get_current_user_from_db)]) -> User:
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


def security_tutorial003() -> App:
    app = App()

    @app.post("/token")
    async def login(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        user_dict = FAKE_USERS_DB.get(form_data.username)
        if not user_dict:
            raise HTTPException(status_code=400, detail="Incorrect username or password")
        user = UserInDB(**user_dict)
        hashed_password = fake_hash_password(form_data.password)
        if not hashed_password == user.hashed_password:
            raise HTTPException(status_code=400, detail="Incorrect username or password")
        return {"access_token": user.username, "token_type": "bearer"}

    @app.get("/users/me")
    async def read_users_me(current_user: Annotated[User, Depends(get_current_active_user)]) -> Any:
        return current_user

    return app


basic_security = HTTPBasic()


def get_current_username(credentials: Annotated[HTTPBasicCredentials, Depends(basic_security)]) -> str:
    is_correct_username = secrets.compare_digest(credentials.username.encode("utf8"), b"stanleyjobson")
    is_correct_password = secrets.compare_digest(credentials.password.encode("utf8"), b"swordfish")
    if not (is_correct_username and is_correct_password):
        raise HTTPException(status_code=401, detail="Incorrect username or password",
                            headers={"WWW-Authenticate": "Basic"})
    return credentials.username


def security_http_basic_tutorial007() -> App:
    app = App()

    @app.get("/users/me")
    def read_current_user(username: Annotated[str, Depends(get_current_username)]) -> dict[str, Any]:
        return {"username": username}

    return app


def _basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Notexistent testtoken"}])
def test_tutorial001_no_token_is_401(headers: dict[str, str]) -> None:
    with TestClient(security_tutorial001()) as client:
        response = client.get("/items/", headers=headers)
    assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"})
    assert response.headers["www-authenticate"] == BEARER_CHALLENGE


@pytest.mark.parametrize(("authorization", "token"), [("Bearer testtoken", "testtoken"), ("Bearer", "")])
def test_tutorial001_token_is_passed_through(authorization: str, token: str) -> None:
    with TestClient(security_tutorial001()) as client:
        response = client.get("/items/", headers={"Authorization": authorization})
    assert (response.status_code, response.json()) == (200, {"token": token})


def test_tutorial001_security_scheme_in_openapi() -> None:
    with TestClient(security_tutorial001()) as client:
        schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "token"}}},
    }
    assert schema["paths"]["/items/"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


def test_tutorial002_current_user() -> None:
    with TestClient(security_tutorial002()) as client:
        anonymous = client.get("/users/me")
        known = client.get("/users/me", headers={"Authorization": "Bearer testtoken"})
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Not authenticated"})
    assert anonymous.headers["www-authenticate"] == BEARER_CHALLENGE
    assert known.status_code == 200
    assert known.json() == {"username": "testtokenfakedecoded", "email": "john@example.com", "full_name": "John Doe",
                            "disabled": None}


@pytest.mark.parametrize("fields", [
    {"username": "johndoe", "password": "secret"},
    {"username": "johndoe", "password": "secret", "grant_type": "password"},
])
def test_tutorial003_login(fields: dict[str, str]) -> None:
    with TestClient(security_tutorial003()) as client:
        response = client.post("/token", **form_body(fields))  # type: ignore[arg-type]
    assert (response.status_code, response.json()) == (200, {"access_token": "johndoe", "token_type": "bearer"})


@pytest.mark.parametrize("fields", [
    {"username": "johndoe", "password": "incorrect"}, {"username": "foo", "password": "secret"},
])
def test_tutorial003_wrong_credentials(fields: dict[str, str]) -> None:
    with TestClient(security_tutorial003()) as client:
        response = client.post("/token", **form_body(fields))  # type: ignore[arg-type]
    assert (response.status_code, response.json()) == (400, {"detail": "Incorrect username or password"})


def test_tutorial003_invalid_forms() -> None:
    with TestClient(security_tutorial003()) as client:
        bad_grant = client.post("/token", **form_body(  # type: ignore[arg-type]
            {"username": "johndoe", "password": "secret", "grant_type": "incorrect"}))
        no_password = client.post("/token", **form_body({"username": "johndoe"}))  # type: ignore[arg-type]
        empty = client.post("/token", **form_body({}))  # type: ignore[arg-type]
    assert_422(bad_grant, [{"type": "string_pattern_mismatch", "loc": ["body", "grant_type"],
                            "msg": "String should match pattern '^password$'", "input": "incorrect",
                            "ctx": {"pattern": "^password$"}}])
    assert_422(no_password, [missing("body", "password")])
    assert_422(empty, [missing("body", "username"), missing("body", "password")])


def test_tutorial003_current_active_user() -> None:
    with TestClient(security_tutorial003()) as client:
        john = client.get("/users/me", headers={"Authorization": "Bearer johndoe"})
        nobody = client.get("/users/me", headers={"Authorization": "Bearer nonexistent"})
        alice = client.get("/users/me", headers={"Authorization": "Bearer alice"})
        anonymous = client.get("/users/me")
        other_scheme = client.get("/users/me", headers={"Authorization": "Notexistent testtoken"})
    assert john.status_code == 200
    assert john.json() == {"username": "johndoe", "email": "johndoe@example.com", "full_name": "John Doe",
                           "disabled": False, "hashed_password": "fakehashedsecret"}
    for refused in (nobody, anonymous, other_scheme):
        assert (refused.status_code, refused.json()) == (401, {"detail": "Not authenticated"})
        assert refused.headers["www-authenticate"] == BEARER_CHALLENGE
    assert (alice.status_code, alice.json()) == (400, {"detail": "Inactive user"})


def test_tutorial003_login_then_use_the_token_over_a_real_socket(serve: Any) -> None:
    body = b"username=johndoe&password=secret"
    server = serve(security_tutorial003())
    with server.connect() as sock:
        sock.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        token = msgspec.json.decode(read_response(sock).body)["access_token"]
        sock.sendall(f"GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        me = read_response(sock)
    assert me.status == 200
    assert msgspec.json.decode(me.body)["username"] == "johndoe"


def test_http_basic_tutorial007() -> None:
    with TestClient(security_http_basic_tutorial007()) as client:
        ok = client.get("/users/me", headers=_basic("stanleyjobson", "swordfish"))
        wrong = client.get("/users/me", headers=_basic("alice", "swordfish"))
        anonymous = client.get("/users/me")
        not_base64 = client.get("/users/me", headers={"Authorization": "Basic notabase64token"})
        no_colon = client.get("/users/me", headers={"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()})
    assert (ok.status_code, ok.json()) == (200, {"username": "stanleyjobson"})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Incorrect username or password"})
    for refused in (anonymous, not_base64, no_colon):
        assert (refused.status_code, refused.json()) == (401, {"detail": "Not authenticated"})
    for refused in (wrong, anonymous, not_base64, no_colon):
        assert refused.headers["www-authenticate"] == "Basic"

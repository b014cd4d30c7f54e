"""Security schemes: FastAPI's status codes, headers and details for missing or bad credentials, and OpenAPI."""

# ruff: noqa: B008 - `x = Depends(...)` defaults are the FastAPI API under test
from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from zigmund_fast import App, Depends, HTTPException, Security, SecurityScopes
from zigmund_fast.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
)
from zigmund_fast.testing import TestClient

NOT_AUTHENTICATED = {"detail": "Not authenticated"}

api_key_query = APIKeyQuery(name="api_key", description="A key in the query")
api_key_header = APIKeyHeader(name="X-API-Key", scheme_name="HeaderKey")
api_key_cookie = APIKeyCookie(name="session")
basic = HTTPBasic(realm="staff")
bearer = HTTPBearer(bearerFormat="JWT")
oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes={"me": "Read yourself", "items": "Read items"})
optional_key = APIKeyQuery(name="api_key", scheme_name="OptionalKey", auto_error=False)
optional_bearer = HTTPBearer(scheme_name="OptionalBearer", auto_error=False)
optional_basic = HTTPBasic(scheme_name="OptionalBasic", auto_error=False)
optional_oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scheme_name="OptionalOAuth2", auto_error=False)


async def current_user(security_scopes: SecurityScopes, token: str = Depends(oauth2)) -> dict[str, Any]:
    if token == "expired":
        raise HTTPException(401, "Could not validate credentials",
                            headers={"WWW-Authenticate": f'Bearer scope="{security_scopes.scope_str}"'})
    return {"token": token, "scopes": security_scopes.scopes}


async def current_admin(user: dict[str, Any] = Security(current_user, scopes=["admin"])) -> dict[str, Any]:
    return user


def build_app() -> App:
    app = App()

    @app.get("/query")
    async def query(key: str = Depends(api_key_query)) -> dict[str, str]:
        return {"key": key}

    @app.get("/header")
    async def header(key: str = Depends(api_key_header)) -> dict[str, str]:
        return {"key": key}

    @app.get("/cookie")
    async def cookie(key: str = Depends(api_key_cookie)) -> dict[str, str]:
        return {"key": key}

    @app.get("/basic")
    async def basic_auth(credentials: HTTPBasicCredentials = Depends(basic)) -> dict[str, str]:
        return {"username": credentials.username, "password": credentials.password}

    @app.get("/bearer")
    async def bearer_auth(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> dict[str, str]:
        return {"scheme": credentials.scheme, "credentials": credentials.credentials}

    @app.get("/items")
    async def items(user: dict[str, Any] = Security(current_user, scopes=["items"])) -> dict[str, Any]:
        return user

    @app.get("/admin/items")
    async def admin_items(user: dict[str, Any] = Security(current_admin, scopes=["items"])) -> dict[str, Any]:
        return user

    @app.get("/optional")
    async def optional(key: str | None = Depends(optional_key),
                       token: HTTPAuthorizationCredentials | None = Depends(optional_bearer),
                       login: HTTPBasicCredentials | None = Depends(optional_basic),
                       oauth: str | None = Depends(optional_oauth2)) -> dict[str, Any]:
        return {"key": key, "token": token.credentials if token else None,
                "login": login.username if login else None, "oauth": oauth}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as made:
        yield made


def basic_header(raw: bytes) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(("url", "headers", "body"), [
    ("/query?api_key=k1", {}, {"key": "k1"}),
    ("/header", {"x-api-key": "k2"}, {"key": "k2"}),
    ("/cookie", {"cookie": "other=1; session=k3"}, {"key": "k3"}),
    ("/basic", basic_header(b"ann:pa:ss"), {"username": "ann", "password": "pa:ss"}),
    ("/basic", {"authorization": "basic " + base64.b64encode(b"ann:x").decode()}, {"username": "ann", "password": "x"}),
    ("/bearer", {"authorization": "Bearer abc.def"}, {"scheme": "Bearer", "credentials": "abc.def"}),
    ("/items", {"authorization": "Bearer t1"}, {"token": "t1", "scopes": ["items"]}),
    ("/admin/items", {"authorization": "bearer t2"}, {"token": "t2", "scopes": ["items", "admin"]}),
])
def test_valid_credentials_reach_the_handler(client: TestClient, url: str, headers: dict[str, str],
                                             body: dict[str, Any]) -> None:
    response = client.get(url, headers=headers)
    assert (response.status_code, response.json()) == (200, body)


@pytest.mark.parametrize(("url", "headers", "challenge"), [
    ("/query", {}, "APIKey"),
    ("/query?api_key=", {}, "APIKey"),
    ("/header", {}, "APIKey"),
    ("/cookie", {"cookie": "other=1"}, "APIKey"),
    ("/basic", {}, 'Basic realm="staff"'),
    ("/basic", {"authorization": "Bearer abc"}, 'Basic realm="staff"'),
    ("/basic", {"authorization": "Basic !!!not-base64"}, 'Basic realm="staff"'),
    ("/basic", basic_header(b"no-colon"), 'Basic realm="staff"'),
    ("/basic", basic_header("\u00fc:p".encode("latin-1")), 'Basic realm="staff"'),
    ("/bearer", {}, "Bearer"),
    ("/bearer", {"authorization": "Bearer"}, "Bearer"),
    ("/bearer", {"authorization": "Basic abc"}, "Bearer"),
    ("/items", {}, "Bearer"),
    ("/items", {"authorization": "Token abc"}, "Bearer"),
])
def test_missing_or_bad_credentials_are_401_with_a_challenge(client: TestClient, url: str, headers: dict[str, str],
                                                              challenge: str) -> None:
    response = client.get(url, headers=headers)
    assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
    assert response.headers.get("www-authenticate") == challenge


def test_security_scopes_reach_a_dependency_raising_its_own_401(client: TestClient) -> None:
    response = client.get("/admin/items", headers={"authorization": "Bearer expired"})
    assert (response.status_code, response.json()) == (401, {"detail": "Could not validate credentials"})
    assert response.headers.get("www-authenticate") == 'Bearer scope="items admin"'


def test_auto_error_false_gives_none_instead_of_401(client: TestClient) -> None:
    assert client.get("/optional").json() == {"key": None, "token": None, "login": None, "oauth": None}
    assert client.get("/optional", headers={"authorization": "Digest x"}).json() == {
        "key": None, "token": None, "login": None, "oauth": None}
    assert client.get("/optional?api_key=k", headers={"authorization": "Bearer t"}).json() == {
        "key": "k", "token": "t", "login": None, "oauth": "t"}
    assert client.get("/optional", headers=basic_header(b"ann:pw")).json()["login"] == "ann"


def test_auto_error_false_basic_still_rejects_a_malformed_header(client: TestClient) -> None:
    # FastAPI answers 401 here too: the client did try Basic, and got it wrong.
    response = client.get("/optional", headers={"authorization": "Basic !!!"})
    assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
    assert response.headers.get("www-authenticate") == "Basic"


def test_schemes_are_in_the_openapi_document_and_it_validates(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "APIKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key", "description": "A key in the query"},
        "HeaderKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "APIKeyCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {
            "tokenUrl": "/token", "scopes": {"me": "Read yourself", "items": "Read items"}}}},
        "OptionalKey": {"type": "apiKey", "in": "query", "name": "api_key"},
        "OptionalBearer": {"type": "http", "scheme": "bearer"},
        "OptionalBasic": {"type": "http", "scheme": "basic"},
        "OptionalOAuth2": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/token", "scopes": {}}}},
    }
    security = {path: item["get"].get("security") for path, item in document["paths"].items()}
    assert security == {
        "/query": [{"APIKeyQuery": []}],
        "/header": [{"HeaderKey": []}],
        "/cookie": [{"APIKeyCookie": []}],
        "/basic": [{"HTTPBasic": []}],
        "/bearer": [{"HTTPBearer": []}],
        "/items": [{"OAuth2PasswordBearer": ["items"]}],
        "/admin/items": [{"OAuth2PasswordBearer": ["items", "admin"]}],
        "/optional": [{"OptionalKey": []}, {"OptionalBearer": []}, {"OptionalBasic": []}, {"OptionalOAuth2": []}],
    }
    # A scheme reads the request itself: it adds no operation parameters (and no 422).
    assert "parameters" not in document["paths"]["/query"]["get"]
    assert "422" not in document["paths"]["/query"]["get"]["responses"]


def test_routes_without_security_have_no_security_key() -> None:
    app = App()
    app.get("/open", lambda: "open")
    document = app.openapi()
    assert "security" not in document["paths"]["/open"]["get"]
    assert "components" not in document or "securitySchemes" not in document["components"]


def test_security_scheme_can_be_overridden_in_tests() -> None:
    app = App()

    @app.get("/me")
    async def me(key: str = Depends(api_key_header)) -> str:
        return key

    app.dependency_overrides[api_key_header] = lambda: "test-key"
    with TestClient(app) as client:
        assert client.get("/me").json() == "test-key"


def test_security_scopes_string_is_rejected() -> None:
    with pytest.raises(TypeError, match="list of scope names"):
        Security(current_user, scopes="items")  # type: ignore[arg-type]


def test_oauth2_password_request_form_reads_the_token_request() -> None:
    app = App()

    @app.post("/token")
    async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return {"user": form.username, "scopes": form.scopes, "grant": form.grant_type}

    @app.post("/strict")
    async def strict(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]) -> dict[str, Any]:
        return {"user": form.username}

    urlencoded = {"content-type": "application/x-www-form-urlencoded"}
    with TestClient(app) as client:
        ok = client.post("/token", content=b"username=al&password=pw&scope=read+write", headers=urlencoded)
        assert ok.status_code == 200 and ok.json() == {"user": "al", "scopes": ["read", "write"], "grant": None}
        bad_grant = client.post("/token", content=b"username=al&password=pw&grant_type=implicit", headers=urlencoded)
        assert bad_grant.status_code == 422 and bad_grant.json()["detail"][0]["loc"] == ["body", "grant_type"]
        missing = client.post("/strict", content=b"username=al&password=pw", headers=urlencoded)
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "grant_type"]
    validate(app.openapi())

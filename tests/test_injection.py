"""Handler-signature injection: what comes from where, conversions, and 422s, through the TestClient."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
import pytest

import zigmund_fast as zigmund
from zigmund_fast import App, BackgroundTasks, Header, Path, Query, Request, Response
from zigmund_fast.injection import binds_by_position, compile_infallible_call
from zigmund_fast.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


def make_app() -> App:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, short: bool = False) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "short": short}

    @app.get("/floats/{value}")
    async def read_float(value: float) -> dict[str, Any]:
        return {"value": value}

    @app.get("/uuids/{ident}")
    async def read_uuid(ident: uuid.UUID) -> dict[str, Any]:
        return {"ident": str(ident), "version": ident.version}

    @app.get("/required")
    async def required(limit: int) -> dict[str, Any]:
        return {"limit": limit}

    @app.get("/headers")
    async def headers(user_agent: Annotated[str, Header()] = "none", x_token: str | None = Header(None)) -> Any:
        return {"user_agent": user_agent, "x_token": x_token}

    @app.get("/aliased")
    async def aliased(item_query: str = Query("default", alias="item-query")) -> dict[str, Any]:
        return {"value": item_query}

    @app.get("/request")
    async def with_request(req: Request) -> dict[str, Any]:
        return {"method": req.method, "path": req.path, "query": dict(req.query_params),
                "host": req.headers["HOST"], "client": list(req.client) if req.client else None}

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.post("/raw")
    async def raw(req: Request) -> dict[str, Any]:
        return {"body": (await req.body()).decode(), "json": await req.json()}

    @app.get("/sync/{n}")
    def sync_handler(n: int, tasks: BackgroundTasks) -> dict[str, int]:
        return {"n": n * 2}

    @app.get("/text")
    async def text() -> str:
        return "hello"

    return app


@pytest.fixture
def client() -> TestClient:
    with TestClient(make_app()) as c:
        yield c


def test_path_and_query_are_converted_by_annotation(client: TestClient) -> None:
    response = client.get("/items/42", params={"q": "x", "short": "yes"})
    assert response.status_code == 200
    assert response.json() == {"item_id": 42, "q": "x", "short": True}


def test_optional_query_defaults_to_none(client: TestClient) -> None:
    assert client.get("/items/7").json() == {"item_id": 7, "q": None, "short": False}


@pytest.mark.parametrize(
    ("url", "loc", "type_", "value"),
    [
        ("/items/abc", ["path", "item_id"], "int_parsing", "abc"),
        ("/items/1.5", ["path", "item_id"], "int_parsing", "1.5"),
        ("/items/1?short=maybe", ["query", "short"], "bool_parsing", "maybe"),
        ("/floats/x1", ["path", "value"], "float_parsing", "x1"),
        ("/uuids/not-a-uuid", ["path", "ident"], "uuid_parsing", "not-a-uuid"),
    ],
)
def test_unconvertible_values_give_fastapi_shaped_422(
    client: TestClient, url: str, loc: list[str], type_: str, value: str
) -> None:
    response = client.get(url)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert error["type"] == type_
    assert error["input"] == value
    assert isinstance(error["msg"], str) and error["msg"]


def test_missing_required_query_is_reported(client: TestClient) -> None:
    response = client.get("/required")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["query", "limit"], "msg": "Field required", "input": None}]
    }


def test_all_errors_of_a_request_are_reported_at_once(client: TestClient) -> None:
    response = client.get("/items/abc?short=maybe")
    assert [e["loc"] for e in response.json()["detail"]] == [["path", "item_id"], ["query", "short"]]


def test_float_and_uuid_paths(client: TestClient) -> None:
    assert client.get("/floats/2.5").json() == {"value": 2.5}
    ident = uuid.uuid4()
    assert client.get(f"/uuids/{ident}").json() == {"ident": str(ident), "version": 4}


def test_headers_by_marker_convert_underscores(client: TestClient) -> None:
    response = client.get("/headers", headers={"User-Agent": "pytest", "X-Token": "t1"})
    assert response.json() == {"user_agent": "pytest", "x_token": "t1"}
    assert client.get("/headers").json() == {"user_agent": "none", "x_token": None}


def test_query_alias(client: TestClient) -> None:
    assert client.get("/aliased?item-query=v").json() == {"value": "v"}
    assert client.get("/aliased").json() == {"value": "default"}


def test_request_object_is_injected(client: TestClient) -> None:
    data = client.get("/request?a=1&b=2").json()
    assert data["method"] == "GET"
    assert data["path"] == "/request"
    assert data["query"] == {"a": "1", "b": "2"}
    assert data["host"] == "testserver"
    assert data["client"][0] == "testclient"


def test_msgspec_body_is_validated(client: TestClient) -> None:
    ok = client.post("/items", json={"name": "x", "price": 1.5})
    assert ok.status_code == 200
    assert ok.json() == {"name": "x", "price": 1.5, "tags": []}
    bad = client.post("/items", json={"name": "x", "price": "no"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "price"]
    missing = client.post("/items", json={"name": "x"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "price"]
    assert missing.json()["detail"][0]["type"] == "missing"
    invalid = client.post("/items", content=b"{not json", headers={"content-type": "application/json"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["type"] == "json_invalid"
    empty = client.post("/items")
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["type"] == "missing"


def test_request_body_and_json(client: TestClient) -> None:
    assert client.post("/raw", json={"a": 1}).json() == {"body": '{"a": 1}', "json": {"a": 1}}


def test_sync_handlers_run_and_may_take_tasks(client: TestClient) -> None:
    assert client.get("/sync/21").json() == {"n": 42}


def test_str_return_is_a_json_string_as_in_fastapi(client: TestClient) -> None:
    response = client.get("/text")
    assert response.content == b'"hello"'
    assert response.headers["content-type"] == "application/json"


def test_unsupported_parameter_type_is_a_readable_registration_error() -> None:
    app = App()

    class Thing:
        pass

    with pytest.raises(TypeError, match="parameter 'thing'"):
        app.get("/x", lambda thing: None) if False else app.get("/x", _takes_thing(Thing))


def _takes_thing(cls: type) -> Any:
    async def handler(thing: cls) -> None:  # type: ignore[valid-type]
        return None

    handler.__annotations__["thing"] = cls
    return handler


def test_star_args_are_rejected_at_registration() -> None:
    app = App()

    async def handler(*args: Any) -> None:
        return None

    with pytest.raises(TypeError, match=r"\*args"):
        app.get("/x", handler)


def test_public_names_are_importable() -> None:
    for name in zigmund.__all__:
        assert hasattr(zigmund, name), name


def constrained_app() -> App:
    app = App()

    @app.get("/numbers/{n}")
    async def numbers(
        n: Annotated[int, Path(gt=0, le=10)],
        ratio: float = Query(0.5, ge=0, lt=1),
    ) -> dict[str, Any]:
        return {"n": n, "ratio": ratio}

    @app.get("/names")
    async def names(q: str = Query(..., min_length=2, max_length=4, pattern="^[a-z]+$")) -> dict[str, str]:
        return {"q": q}

    @app.get("/many")
    async def many(ids: list[int] = Query([]), tag: list[str] | None = Query(None)) -> dict[str, Any]:
        return {"ids": ids, "tag": tag}

    return app


@pytest.mark.parametrize(
    ("url", "loc", "type_", "msg", "ctx"),
    [
        ("/numbers/0", ["path", "n"], "greater_than", "Input should be greater than 0", {"gt": 0}),
        ("/numbers/11", ["path", "n"], "less_than_equal", "Input should be less than or equal to 10", {"le": 10}),
        ("/numbers/5?ratio=1", ["query", "ratio"], "less_than", "Input should be less than 1", {"lt": 1}),
        ("/names?q=a", ["query", "q"], "string_too_short", "String should have at least 2 characters",
         {"min_length": 2}),
        ("/names?q=abcde", ["query", "q"], "string_too_long", "String should have at most 4 characters",
         {"max_length": 4}),
        ("/names?q=AB", ["query", "q"], "string_pattern_mismatch", "String should match pattern '^[a-z]+$'",
         {"pattern": "^[a-z]+$"}),
    ],
)
def test_constraints_give_fastapi_errors(url: str, loc: list[str], type_: str, msg: str, ctx: dict[str, Any]) -> None:
    with TestClient(constrained_app()) as client:
        response = client.get(url)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"], error["msg"], error["ctx"]) == (loc, type_, msg, ctx)


def test_values_within_constraints_pass() -> None:
    with TestClient(constrained_app()) as client:
        assert client.get("/numbers/10?ratio=0").json() == {"n": 10, "ratio": 0.0}
        assert client.get("/names?q=abc").json() == {"q": "abc"}


def test_repeated_query_keys_fill_a_list() -> None:
    with TestClient(constrained_app()) as client:
        assert client.get("/many?ids=1&ids=2&ids=3&tag=x").json() == {"ids": [1, 2, 3], "tag": ["x"]}
        assert client.get("/many").json() == {"ids": [], "tag": None}
        bad = client.get("/many?ids=1&ids=x")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "ids", 1]


def test_constraints_appear_in_openapi() -> None:
    from openapi_spec_validator import validate

    with TestClient(constrained_app()) as client:
        document = client.get("/openapi.json").json()
    validate(document)
    params = {p["name"]: p["schema"] for p in document["paths"]["/numbers/{n}"]["get"]["parameters"]}
    assert params["n"]["exclusiveMinimum"] == 0 and params["n"]["maximum"] == 10
    assert params["ratio"]["minimum"] == 0 and params["ratio"]["exclusiveMaximum"] == 1
    q = document["paths"]["/names"]["get"]["parameters"][0]["schema"]
    assert (q["minLength"], q["maxLength"], q["pattern"]) == (2, 4, "^[a-z]+$")
    ids = document["paths"]["/many"]["get"]["parameters"][0]["schema"]
    assert ids["type"] == "array" and ids["items"]["type"] == "integer"


def test_bad_pattern_is_a_registration_error() -> None:
    with pytest.raises(TypeError, match="invalid pattern"):
        App().get("/x", _pattern_handler())


def _pattern_handler() -> Any:
    async def handler(q: str = Query(pattern="(")) -> None:
        return None

    return handler


class Stock(msgspec.Struct):
    count: int
    ratio: float = 1.0


def lax_numbers_app() -> App:
    app = App()

    @app.post("/stock")
    async def stock(item: Stock) -> Stock:
        return item

    @app.post("/embedded")
    async def embedded(item: Stock, note: Annotated[str, zigmund.Body()] = "") -> dict[str, Any]:
        return {"count": item.count, "note": note}

    return app


@pytest.mark.parametrize("path", ["/stock", "/embedded"])
def test_body_numbers_are_read_laxly_as_pydantic_does(path: str) -> None:
    """Found by schemathesis: JSON Schema's "integer" includes 3.0, and FastAPI accepts it (and "3")."""
    def wrap(fields: dict[str, Any]) -> dict[str, Any]:
        return fields if path == "/stock" else {"item": fields}

    with TestClient(lax_numbers_app()) as client:
        for count in (3, 3.0, "3"):
            response = client.post(path, json=wrap({"count": count}))
            assert (response.status_code, response.json()["count"]) == (200, 3), count
        for count in (3.5, "three"):
            assert client.post(path, json=wrap({"count": count})).status_code == 422, count


def test_handlers_taking_only_request_tasks_and_response_get_them_by_position_or_by_keyword() -> None:
    """These signatures are called directly (extract.pyx DirectCall): by position when every parameter
    is positional-or-keyword, by keyword otherwise; each argument is the right object either way."""
    app = App()
    ran: list[str] = []

    @app.post("/one")
    async def one(request: Request) -> dict[str, str]:
        return {"path": request.path}

    @app.post("/reversed")
    async def reversed_(tasks: BackgroundTasks, request: Request) -> dict[str, str]:
        tasks.add(ran.append, "reversed")
        return {"path": request.path}

    @app.post("/keywords")
    async def keywords(*, request: Request, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add(ran.append, "keywords")
        return {"path": request.path}

    @app.post("/three")
    async def three(request: Request, tasks: BackgroundTasks, response: Response) -> dict[str, str]:
        response.headers["x-three"] = "yes"
        response.status_code = 201
        tasks.add(ran.append, "three")
        return {"path": request.path}

    with TestClient(app) as client:
        assert client.post("/one").json() == {"path": "/one"}
        assert client.post("/reversed").json() == {"path": "/reversed"}
        assert client.post("/keywords").json() == {"path": "/keywords"}
        answer = client.post("/three")
        assert (answer.status_code, answer.headers["x-three"], answer.json()) == (201, "yes", {"path": "/three"})
    assert ran == ["reversed", "keywords", "three"]

    def plain(request: Request, tasks: BackgroundTasks) -> None: ...
    def keyword_only(request: Request, *, tasks: BackgroundTasks) -> None: ...

    assert binds_by_position(plain, ["request", "tasks"])
    assert not binds_by_position(plain, ["tasks", "request"])
    assert not binds_by_position(keyword_only, ["request", "tasks"])
    assert compile_infallible_call(plain, ()) is None

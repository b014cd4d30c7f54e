"""The generated OpenAPI 3.1 document: valid, and carrying each route's metadata and parameters.

Most tests feed ``build_openapi`` plain ``SimpleNamespace`` routes (the contract the core
calls it with); the last few check the wiring through a real ``App``.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from openapi_spec_validator import validate

from zigmund_fast import App, BackgroundTasks, Header, Request, Router
from zigmund_fast.openapi import build_openapi
from zigmund_fast.testing import TestClient

VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}


class Tag(msgspec.Struct):
    label: str


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[Tag] = []


@dataclasses.dataclass
class Address:
    street: str
    zip_code: str | None = None


def param(
    name: str, location: str, annotation: Any = str, *, required: bool = True, default: Any = None,
    alias: str | None = None, **extra: Any,
) -> SimpleNamespace:
    return SimpleNamespace(name=name, alias=alias or name, location=location, annotation=annotation,
                           required=required, default=default, **extra)


def route(
    path: str, *methods: str, name: str = "endpoint", params: tuple[SimpleNamespace, ...] = (),
    summary: str | None = None, description: str | None = None, tags: list[str] | None = None,
    status_code: int = 200, include_in_schema: bool = True, operation_id: str | None = None,
    deprecated: bool = False,
) -> SimpleNamespace:
    return SimpleNamespace(path=path, methods=methods or ("GET",), name=name, summary=summary,
                           description=description, tags=tags or [], status_code=status_code,
                           include_in_schema=include_in_schema, operation_id=operation_id,
                           deprecated=deprecated, params=params)


def build(*routes: SimpleNamespace, **info: Any) -> dict[str, Any]:
    """Build, check the document against the OpenAPI 3.1 schema, and that it survives JSON."""
    document = build_openapi(title=info.pop("title", "Test"), version=info.pop("version", "1.0"),
                             routes=routes, **info)
    validate(document)
    assert json.loads(json.dumps(document)) == document
    return document


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def assert_refs_resolve(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


# build_openapi with contract-shaped routes


def test_empty_document() -> None:
    document = build(title="Empty", version="0.1")
    assert document == {"openapi": "3.1.0", "info": {"title": "Empty", "version": "0.1"}, "paths": {}}
    assert build(description="About")["info"] == {"title": "Test", "version": "1.0", "description": "About"}


def test_summary_tags_description_and_operation_ids() -> None:
    document = build(
        route("/items/{item_id}", name="read_item", params=(param("item_id", "path", int),),
              tags=["items", "shop"], description="Reads one item.", deprecated=True),
        route("/items", "POST", name="create_item", summary="Make an item", operation_id="makeItem"),
    )
    read = document["paths"]["/items/{item_id}"]["get"]
    assert read["summary"] == "Read Item"
    assert read["operationId"] == "read_item_items__item_id__get"
    assert read["tags"] == ["items", "shop"]
    assert read["description"] == "Reads one item."
    assert read["deprecated"] is True
    create = document["paths"]["/items"]["post"]
    assert create["summary"] == "Make an item"
    assert create["operationId"] == "makeItem"
    assert "tags" not in create and "description" not in create and "deprecated" not in create


def test_generated_operation_ids_are_sanitised_and_unique() -> None:
    document = build(
        route("/a-b/{x}.json", "GET", "POST", name="<lambda>", params=(param("x", "path"),)),
        route("/twice", "GET", "PUT", name="twice", operation_id="same"),
    )
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert ids[:2] == ["_lambda__a_b__x__json_get", "_lambda__a_b__x__json_post"]
    assert ids[2:] == ["same", "same_put"]


def test_parameters_by_location_and_type() -> None:
    get = route("/things/{thing_id}", name="things", params=(
        param("thing_id", "path", uuid.UUID, required=False),  # a path param is required whatever it says
        param("limit", "query", int, required=False, default=10),
        param("ratio", "query", float, required=False, default=0.5),
        param("flag", "query", bool, required=False, default=True),
        param("q", "query", str, required=False, default=None),
        param("when", "query", str, required=False, default=object()),  # no JSON form: no default
        param("x_token", "header", str, alias="x-token", description="Auth token"),
        param("session", "cookie", str, required=False, default="anon"),
        param("old", "query", int, required=False, default=float("nan"), deprecated=True),
        param("hidden", "query", int, include_in_schema=False),
    ))
    operation = build(get)["paths"]["/things/{thing_id}"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert list(params) == ["thing_id", "limit", "ratio", "flag", "q", "when", "x-token", "session", "old"]
    assert params["thing_id"] == {"name": "thing_id", "in": "path", "required": True,
                                  "schema": {"type": "string", "format": "uuid", "title": "Thing Id"}}
    assert params["limit"] == {"name": "limit", "in": "query", "required": False,
                               "schema": {"type": "integer", "title": "Limit", "default": 10}}
    assert params["ratio"]["schema"] == {"type": "number", "title": "Ratio", "default": 0.5}
    assert params["flag"]["schema"] == {"type": "boolean", "title": "Flag", "default": True}
    assert params["q"]["schema"] == {"type": "string", "title": "Q"}
    assert "default" not in params["when"]["schema"]
    assert params["x-token"]["in"] == "header" and params["x-token"]["required"] is True
    assert params["x-token"]["description"] == "Auth token"
    assert params["x-token"]["schema"]["title"] == "X-Token"
    assert params["session"]["in"] == "cookie" and params["session"]["schema"]["default"] == "anon"
    assert params["old"]["deprecated"] is True and "default" not in params["old"]["schema"]
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == VALIDATION_REF


def test_optional_and_container_annotations() -> None:
    document = build(route("/search", params=(
        param("q", "query", str | None, required=False),
        param("ids", "query", list[int], required=False, default=[1, 2]),
        param("anything", "query", Any, required=False),
        param("unknown", "query", object, required=False),  # msgspec can't describe it: any value
    )))
    params = {p["name"]: p["schema"] for p in document["paths"]["/search"]["get"]["parameters"]}
    assert params["q"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Q"}
    assert params["ids"] == {"type": "array", "items": {"type": "integer"}, "title": "Ids", "default": [1, 2]}
    assert params["anything"] == {"title": "Anything"}
    assert params["unknown"] == {"title": "Unknown"}


def test_validation_error_components_only_when_needed() -> None:
    plain = build(route("/ping", name="ping"))
    assert "components" not in plain
    assert plain["paths"]["/ping"]["get"]["responses"] == {
        "200": {"description": "Successful Response", "content": {"application/json": {"schema": {}}}}
    }

    document = build(route("/ping", name="ping"), route("/echo", params=(param("text", "query"),)))
    assert "422" not in document["paths"]["/ping"]["get"]["responses"]
    assert document["paths"]["/echo"]["get"]["responses"]["422"]["description"] == "Validation Error"
    schemas = document["components"]["schemas"]
    assert set(schemas) == {"HTTPValidationError", "ValidationError"}
    assert schemas["HTTPValidationError"]["type"] == "object"
    assert schemas["HTTPValidationError"]["required"] == ["detail"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    error = schemas["ValidationError"]
    assert "description" not in error and "description" not in schemas["HTTPValidationError"]
    assert error["required"] == ["loc", "msg", "type"]
    assert error["properties"]["loc"]["items"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert error["properties"]["msg"] == {"title": "Message", "type": "string"}
    assert_refs_resolve(document)


def test_struct_body_goes_to_components() -> None:
    document = build(route("/items/{item_id}", "PUT", name="replace_item", status_code=201, params=(
        param("item_id", "path", int), param("item", "body", Item),
    )))
    put = document["paths"]["/items/{item_id}"]["put"]
    assert put["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}, "required": True,
    }
    assert set(put["responses"]) == {"201", "422"}
    schemas = document["components"]["schemas"]
    assert schemas["Item"]["required"] == ["name", "price"]
    assert schemas["Item"]["properties"]["price"] == {"type": "number"}
    assert schemas["Item"]["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["Tag"]["properties"]["label"] == {"type": "string"}
    assert_refs_resolve(document)


def test_other_body_types() -> None:
    document = build(
        route("/address", "POST", name="address", params=(param("address", "body", Address),)),
        route("/raw", "POST", name="raw", params=(param("payload", "body", dict[str, Any], required=False),)),
        route("/many", "POST", name="many", params=(param("items", "body", list[Item]),)),
        route("/any", "POST", name="any_body", params=(param("data", "body", Any),)),
    )
    paths = document["paths"]
    schema = paths["/address"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Address"}
    address = document["components"]["schemas"]["Address"]
    assert address["required"] == ["street"]
    raw = paths["/raw"]["post"]["requestBody"]
    assert "required" not in raw
    assert raw["content"]["application/json"]["schema"] == {"type": "object", "title": "Payload"}
    many = paths["/many"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert many == {"type": "array", "items": {"$ref": "#/components/schemas/Item"}, "title": "Items"}
    assert paths["/any"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {"title": "Data"}
    assert_refs_resolve(document)


def test_several_body_params_form_one_object() -> None:
    document = build(route("/orders", "POST", name="create_order", params=(
        param("item", "body", Item), param("quantity", "body", int, required=False, default=1),
    )))
    body = document["paths"]["/orders"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Body_create_order_orders_post"}
    combined = document["components"]["schemas"]["Body_create_order_orders_post"]
    assert combined["properties"] == {
        "item": {"$ref": "#/components/schemas/Item"},
        "quantity": {"type": "integer", "title": "Quantity", "default": 1},
    }
    assert combined["required"] == ["item"]
    assert_refs_resolve(document)


def test_models_with_the_same_name_do_not_overwrite_each_other() -> None:
    first = msgspec.defstruct("Item", [("a", int)], module="shop.first")
    second = msgspec.defstruct("Item", [("b", str)], module="shop.second")
    document = build(
        route("/first", "POST", name="first", params=(param("x", "body", first),)),
        route("/second", "POST", name="second", params=(param("x", "body", second),)),
    )
    schemas = document["components"]["schemas"]
    one = schemas[document["paths"]["/first"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                  ["$ref"].rsplit("/", 1)[1]]
    two = schemas[document["paths"]["/second"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                  ["$ref"].rsplit("/", 1)[1]]
    assert list(one["properties"]) == ["a"] and list(two["properties"]) == ["b"]
    assert_refs_resolve(document)


def test_a_user_model_named_like_the_validation_schemas() -> None:
    clash = msgspec.defstruct("HTTPValidationError", [("mine", int)], module="user.models")
    document = build(route("/clash", "POST", name="clash", params=(param("body", "body", clash),)))
    operation = document["paths"]["/clash"]["post"]
    schemas = document["components"]["schemas"]
    mine = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ours = operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert mine != ours
    assert "mine" in schemas[mine]["properties"] and "detail" in schemas[ours]["properties"]


def test_methods_order_and_exclusions() -> None:
    document = build(
        route("/b", "GET", "HEAD", name="b"),
        route("/hidden", name="hidden", include_in_schema=False),
        route("/a", "POST", name="a_post"),
        route("/b", "DELETE", name="b_delete"),
        route("/a", "PATCH", "OPTIONS", name="a_multi"),
        route("/only-head", "HEAD", name="only_head"),
    )
    paths = document["paths"]
    assert list(paths) == ["/b", "/a"]
    assert list(paths["/b"]) == ["get", "delete"]
    assert list(paths["/a"]) == ["post", "patch", "options"]


def test_status_codes() -> None:
    document = build(route("/created", "POST", status_code=201, name="created"),
                     route("/gone", "DELETE", status_code=204, name="gone"))
    assert document["paths"]["/created"]["post"]["responses"]["201"]["content"] == {
        "application/json": {"schema": {}}
    }
    assert document["paths"]["/gone"]["delete"]["responses"] == {"204": {"description": "Successful Response"}}


def test_path_templates_are_always_fully_documented() -> None:
    document = build(
        route("/files/{file_path:path}", name="files", params=(param("file_path", "path", str),)),
        route("/users/{user_id}/posts/{post_id}", name="posts", params=(param("post_id", "path", int),)),
    )
    paths = document["paths"]
    assert "/files/{file_path}" in paths
    assert paths["/files/{file_path}"]["get"]["operationId"] == "files_files__file_path__get"
    posts = paths["/users/{user_id}/posts/{post_id}"]["get"]
    assert [(p["name"], p["required"], p["schema"]["type"]) for p in posts["parameters"]] == [
        ("post_id", True, "integer"), ("user_id", True, "string"),
    ]


def test_output_is_deterministic() -> None:
    routes = [
        route("/items/{item_id}", "PUT", name="put", params=(param("item_id", "path", int), param("i", "body", Item))),
        route("/addr", "POST", name="addr", params=(param("a", "body", Address),)),
    ]
    first = json.dumps(build_openapi(title="T", version="1", routes=routes))
    assert json.dumps(build_openapi(title="T", version="1", routes=iter(routes))) == first
    assert list(json.loads(first)["components"]["schemas"]) == sorted(json.loads(first)["components"]["schemas"])


# Through a real App (the core's /openapi.json)


def make_app() -> App:
    app = App(title="Shop", version="2.0", description="A shop")

    @app.post("/tutorial/notify", summary="Queue a notification", tags=["parity", "tutorial"])
    async def notify(req: Request, tasks: BackgroundTasks) -> dict[str, bool]:
        return {"queued": True}

    @app.get("/items/{item_id}", deprecated=True)
    async def read_item(item_id: int, q: str | None = None, limit: int = 10, x_token: str = Header("t")) -> Any:
        return {}

    @app.put("/items/{item_id}", status_code=201, operation_id="replace_item")
    async def replace_item(item_id: uuid.UUID, item: Item) -> Item:
        return item

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> None:
        return None

    return app


def openapi_of(app: App) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def test_app_document_is_valid_openapi_3_1() -> None:
    document = openapi_of(make_app())
    validate(document)
    assert_refs_resolve(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.0", "description": "A shop"}


def test_app_operations_carry_summary_tags_and_ids() -> None:
    paths = openapi_of(make_app())["paths"]
    notify = paths["/tutorial/notify"]["post"]
    assert notify["summary"] == "Queue a notification"
    assert notify["tags"] == ["parity", "tutorial"]
    assert "parameters" not in notify and "422" not in notify["responses"]
    read = paths["/items/{item_id}"]["get"]
    assert read["summary"] == "Read Item"
    assert read["operationId"] == "read_item_items__item_id__get"
    assert read["deprecated"] is True
    assert paths["/items/{item_id}"]["put"]["operationId"] == "replace_item"
    assert "/hidden" not in paths and "/openapi.json" not in paths and "/docs" not in paths


def test_app_parameters_and_bodies() -> None:
    document = openapi_of(make_app())
    read = document["paths"]["/items/{item_id}"]["get"]
    params = {p["name"]: p for p in read["parameters"]}
    assert params["item_id"]["in"] == "path" and params["item_id"]["required"] is True
    assert params["item_id"]["schema"]["type"] == "integer"
    assert params["q"]["required"] is False and params["q"]["schema"]["type"] == "string"
    assert params["limit"]["schema"]["default"] == 10
    assert params["x-token"]["in"] == "header"
    assert read["responses"]["422"]["content"]["application/json"]["schema"] == VALIDATION_REF
    put = document["paths"]["/items/{item_id}"]["put"]
    assert put["parameters"][0]["schema"] == {"type": "string", "format": "uuid", "title": "Item Id"}
    assert put["requestBody"]["required"] is True
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    assert "201" in put["responses"]
    item = document["components"]["schemas"]["Item"]
    assert item["properties"]["price"]["type"] == "number"
    assert set(item["required"]) == {"name", "price"}


def test_app_openapi_can_be_disabled() -> None:
    app = App(openapi_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_app_document_tracks_routes_added_later() -> None:
    app = App()
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["paths"] == {}
        app.get("/late", lambda: 1)
        assert "/late" in client.get("/openapi.json").json()["paths"]


def test_response_description_names_the_success_response() -> None:
    app = App()
    app.post("/items/", lambda: {"ok": True}, status_code=201, response_description="The created item")
    app.get("/plain", lambda: {"ok": True})
    app.delete("/items/{item_id}", lambda item_id: None, status_code=204, response_description="Gone")
    app.put("/over", lambda: {"ok": True}, response_description="ours", responses={200: {"description": "declared wins"}})
    router = Router(prefix="/r")
    router.get("/x", lambda: {"ok": True}, response_description="From a router")
    app.include_router(router)
    document = openapi_of(app)
    validate(document)
    paths = document["paths"]
    assert paths["/items/"]["post"]["responses"]["201"]["description"] == "The created item"
    assert paths["/plain"]["get"]["responses"]["200"]["description"] == "Successful Response"
    assert paths["/items/{item_id}"]["delete"]["responses"]["204"] == {"description": "Gone"}
    assert paths["/over"]["put"]["responses"]["200"]["description"] == "declared wins"
    assert paths["/r/x"]["get"]["responses"]["200"]["description"] == "From a router"


def test_response_description_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="response_description must be a string"):
        App().get("/x", lambda: {"ok": True}, response_description=None)

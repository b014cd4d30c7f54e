"""Datetimes, times and decimals are documented as the request decoder reads them (found by schemathesis).

msgspec alone documents a naive-or-aware ``datetime`` as any string, so a client
following the document could send ``""`` and get a 422; and a ``Decimal`` as a
string of a format JSON Schema does not know, although the decoder also reads
numbers and not every string.
"""

from __future__ import annotations

import datetime
import decimal
import re
from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import validate

from zigmund_fast import App
from zigmund_fast.openapi.formats import DECIMAL_PATTERN, refine_formats
from zigmund_fast.testing import TestClient

DECIMAL = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]}
REF = "#/components/schemas/"


class Payment(msgspec.Struct):
    at: datetime.datetime
    amount: decimal.Decimal
    starts: datetime.time | None = None
    fee: decimal.Decimal = decimal.Decimal("0.5")


class Refund(msgspec.Struct, tag=True):
    at: datetime.datetime


class Charge(msgspec.Struct, tag=True):
    amount: decimal.Decimal


class Ledger(msgspec.Struct):
    payments: list[Payment]
    by_day: dict[str, decimal.Decimal] = {}
    window: tuple[datetime.time, datetime.time] | None = None
    entry: Refund | Charge | None = None
    entry_or_count: Refund | Charge | int = 0
    naive: Annotated[datetime.datetime, msgspec.Meta(tz=False)] | None = None
    aware: Annotated[datetime.time, msgspec.Meta(tz=True)] | None = None
    previous: Ledger | None = None


def refined(*types: Any) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    schemas, components = msgspec.json.schema_components(types, ref_template=REF + "{name}")
    refine_formats(types, schemas, components, REF)
    return schemas, components


def test_struct_fields_get_formats_and_decimals_what_the_decoder_reads() -> None:
    (schema,), components = refined(Payment)
    assert schema == {"$ref": REF + "Payment"}
    properties = components["Payment"]["properties"]
    assert properties["at"] == {"type": "string", "format": "date-time"}
    assert properties["amount"] == DECIMAL
    assert properties["starts"] == {"anyOf": [{"type": "string", "format": "time"}, {"type": "null"}],
                                    "default": None}
    assert properties["fee"] == {**DECIMAL, "default": "0.5"}


def test_formats_reach_containers_unions_and_recursive_models() -> None:
    schemas, components = refined(Ledger, list[datetime.datetime], decimal.Decimal)
    assert schemas[1] == {"type": "array", "items": {"type": "string", "format": "date-time"}}
    assert schemas[2] == DECIMAL
    ledger = components["Ledger"]["properties"]
    assert components["Payment"]["properties"]["at"]["format"] == "date-time"
    assert ledger["by_day"]["additionalProperties"] == DECIMAL
    assert ledger["window"]["anyOf"][0]["prefixItems"] == [{"type": "string", "format": "time"}] * 2
    assert components["Refund"]["properties"]["at"]["format"] == "date-time"
    assert components["Charge"]["properties"]["amount"] == DECIMAL
    # Explicit time zone rules stay as msgspec wrote them: a naive-only datetime is no RFC 3339 date-time.
    assert ledger["naive"]["anyOf"][0] == {"type": "string"}
    assert ledger["aware"]["anyOf"][0] == {"type": "string", "format": "time"}
    assert ledger["previous"]["anyOf"][0] == {"$ref": REF + "Ledger"}


@pytest.mark.parametrize("text", ["1", "-1.50", "+.5", "7.", "1e3", "2.5E-4", "000123"])
def test_decimal_strings_the_pattern_allows_are_read(text: str) -> None:
    assert re.search(DECIMAL_PATTERN, text)
    assert msgspec.json.decode(msgspec.json.encode(text), type=decimal.Decimal) == decimal.Decimal(text)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "--1", "e5", "1e", "\u0663"])
def test_the_pattern_rejects_what_is_no_plain_decimal(text: str) -> None:
    assert not re.search(DECIMAL_PATTERN, text)


def test_a_served_document_says_what_the_route_accepts() -> None:
    app = App()

    @app.post("/payments")
    async def pay(payment: Payment) -> dict[str, Any]:
        return {"amount": str(payment.amount)}

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        validate(document)
        payment = document["components"]["schemas"]["Payment"]["properties"]
        assert payment["at"]["format"] == "date-time" and payment["amount"] == DECIMAL
        documented = {"at": "2024-06-04T10:00:00+02:00", "amount": "12.50"}
        assert client.post("/payments", json=documented).json() == {"amount": "12.50"}
        assert client.post("/payments", json={**documented, "amount": 12.5}).json() == {"amount": "12.5"}
        assert client.post("/payments", json={**documented, "at": ""}).status_code == 422

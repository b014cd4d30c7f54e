"""The msgspec models of the JSON-body route (``POST /orders``), shared by the zigmund and Litestar apps.

The request body is ``benchmarks/body.json`` (1 KiB: an order with a customer and
eight line items). fastapi_app.py declares the same fields as pydantic models.
Every server answers ``{"order_id": 90210, "items": 8, "quantity": 36}`` for it.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Customer(msgspec.Struct):
    name: str
    email: str
    vip: bool = False


class LineItem(msgspec.Struct):
    sku: str
    name: str
    quantity: int
    unit_price: float


class Order(msgspec.Struct):
    order_id: int
    customer: Customer
    items: list[LineItem]
    tags: list[str] = []
    note: str = ""


def order_summary(order: Order) -> dict[str, Any]:
    """The answer of the body route: proves the body was decoded and validated, not just received."""
    return {"order_id": order.order_id, "items": len(order.items),
            "quantity": sum(item.quantity for item in order.items)}

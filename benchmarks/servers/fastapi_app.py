"""FastAPI peer for the benchmark: the same five routes as zigmund_app.py.

    uvicorn benchmarks.servers.fastapi_app:app --loop uvloop --http httptools \
        --no-access-log --log-level warning --port 8000      # cwd = repo root
"""

from __future__ import annotations

from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

app = FastAPI(title="bench", version="0")

# Handlers carry no return annotations on purpose: FastAPI would turn one into an
# inferred response_model and validate/serialize every response through pydantic,
# which is not what the plain tutorial-style app does.

notifications_sent = 0
requests_handled = 0  # POST handlers run; tasks run must equal it


@app.get("/")
async def hello():
    return {"message": "Hello, World!"}


@app.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None):
    return {"item_id": item_id, "q": q}


# The JSON-body route: the same fields as benchmarks/servers/order_structs.py, as pydantic models.


class Customer(BaseModel):
    name: str
    email: str
    vip: bool = False


class LineItem(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: float


class Order(BaseModel):
    order_id: int
    customer: Customer
    items: list[LineItem]
    tags: list[str] = []
    note: str = ""


@app.post("/orders")
async def create_order(order: Order):
    return {"order_id": order.order_id, "items": len(order.items),
            "quantity": sum(item.quantity for item in order.items)}


def send_notification(_ctx: object) -> None:
    global notifications_sent
    notifications_sent += 1


@app.post("/tutorial/background-tasks/notifications")
async def queue_notification(tasks: BackgroundTasks):
    global requests_handled
    requests_handled += 1
    tasks.add_task(send_notification, None)
    return {"queued": True}


@app.get("/tutorial/background-tasks/stats")
async def stats():
    return {"notifications_sent": notifications_sent, "requests_handled": requests_handled}

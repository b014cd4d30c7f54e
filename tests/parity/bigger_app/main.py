"""The app: a global dependency, three routers, one included with its own prefix and metadata."""

from __future__ import annotations

from typing import Any

from zigmund_fast import App, Depends

from .dependencies import get_query_token, get_token_header
from .internal import admin
from .routers import items, users

app = App(dependencies=[Depends(get_query_token)])

app.include_router(users.router)
app.include_router(items.router)
app.include_router(
    admin.router,
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(get_token_header)],
    responses={418: {"description": "I'm a teapot"}},
)


@app.get("/")
async def root() -> Any:
    return {"message": "Hello Bigger Applications!"}

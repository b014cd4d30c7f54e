"""Admin: a router shared with other projects, configured where it is included."""

from __future__ import annotations

from typing import Any

from zigmund_fast import APIRouter

router = APIRouter()


@router.post("/")
async def update_admin() -> Any:
    return {"message": "Admin getting schwifty"}

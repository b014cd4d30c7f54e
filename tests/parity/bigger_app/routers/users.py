"""Users: a router without a prefix; each route carries its tags."""

from __future__ import annotations

from typing import Any

from zigmund_fast import APIRouter

router = APIRouter()


@router.get("/users/", tags=["users"])
async def read_users() -> Any:
    return [{"username": "Rick"}, {"username": "Morty"}]


@router.get("/users/me", tags=["users"])
async def read_user_me() -> Any:
    return {"username": "fakecurrentuser"}


@router.get("/users/{username}", tags=["users"])
async def read_user(username: str) -> Any:
    return {"username": username}

"""FastAPI tutorial, "Lifespan Events" (tutorial003: ``lifespan=``; tutorial001/002: startup and shutdown
events) and "Settings and Environment Variables" (settings as a cached dependency, overridden in tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import pytest

from zigmund_fast import App, Depends
from zigmund_fast.testing import TestClient

ML_MODELS: dict[str, Callable[[float], float]] = {}


def fake_answer_to_everything_ml_model(x: float) -> float:
    return x * 42


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    ML_MODELS["answer_to_everything"] = fake_answer_to_everything_ml_model
    yield
    ML_MODELS.clear()


def lifespan_tutorial003() -> App:
    app = App(lifespan=lifespan)

    @app.get("/predict")
    async def predict(x: float) -> dict[str, Any]:
        result = ML_MODELS["answer_to_everything"](x)
        return {"result": result}

    return app


def events_tutorial001_002(log_file: Path) -> App:
    items: dict[str, dict[str, str]] = {}
    app = App()

    @app.on_event("startup")
    async def startup_event() -> None:
        items["foo"] = {"name": "Fighters"}
        items["bar"] = {"name": "Tenders"}

    @app.on_event("shutdown")
    def shutdown_event() -> None:
        with open(log_file, mode="a") as log:
            log.write("Application shutdown")

    @app.get("/items/{item_id}")
    async def read_items(item_id: str) -> dict[str, str]:
        return items[item_id]

    return app


def test_lifespan_tutorial003_model_loaded_for_the_requests_only() -> None:
    app = lifespan_tutorial003()
    assert ML_MODELS == {}
    with TestClient(app) as client:
        two = client.get("/predict?x=2")
        half = client.get("/predict?x=0.5")
        assert "answer_to_everything" in ML_MODELS
    assert (two.status_code, two.json()) == (200, {"result": 84.0})
    assert (half.status_code, half.json()) == (200, {"result": 21.0})
    assert ML_MODELS == {}


def test_events_tutorial001_002_startup_and_shutdown(tmp_path: Path) -> None:
    log_file = tmp_path / "log.txt"
    with TestClient(events_tutorial001_002(log_file)) as client:
        foo = client.get("/items/foo")
        bar = client.get("/items/bar")
        assert not log_file.exists()
    assert (foo.status_code, foo.json()) == (200, {"name": "Fighters"})
    assert (bar.status_code, bar.json()) == (200, {"name": "Tenders"})
    assert log_file.read_text() == "Application shutdown"


pydantic_settings = pytest.importorskip("pydantic_settings")


class Settings(pydantic_settings.BaseSettings):  # type: ignore[misc,name-defined]
    app_name: str = "Awesome API"
    admin_email: str
    items_per_user: int = 50


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]


def get_settings_override() -> Settings:
    return Settings(admin_email="testing_admin@example.com")


def settings_app02() -> App:
    app = App()

    @app.get("/info")
    async def info(settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
        return {"app_name": settings.app_name, "admin_email": settings.admin_email,
                "items_per_user": settings.items_per_user}

    return app


def test_settings_dependency_overridden_in_tests() -> None:
    app = settings_app02()
    app.dependency_overrides[get_settings] = get_settings_override
    with TestClient(app) as client:
        response = client.get("/info")
    assert response.status_code == 200
    assert response.json() == {"app_name": "Awesome API", "admin_email": "testing_admin@example.com",
                               "items_per_user": 50}


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("APP_NAME", "ChimichangApp")
    get_settings.cache_clear()
    try:
        with TestClient(settings_app02()) as client:
            response = client.get("/info")
    finally:
        get_settings.cache_clear()
    assert response.status_code == 200
    assert response.json() == {"app_name": "ChimichangApp", "admin_email": "admin@example.com",
                               "items_per_user": 50}

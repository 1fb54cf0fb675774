from pathlib import Path

import pytest
from nicegui import app

from tests.conftest import _copy


@pytest.fixture(autouse=True)
def shop_for_the_app(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the app (which the `user` fixture starts from app.py) at a demo shop of this test's own."""
    monkeypatch.setenv("DATABASE_URL", _copy(demo_template, tmp_path / "shop.sqlite3"))
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO_CUSTOMERS", "0")
    # app.py adds its start-up to the app on every run; keep one test's from reaching the next.
    lifespan = app.router.lifespan_context
    yield
    app.router.lifespan_context = lifespan

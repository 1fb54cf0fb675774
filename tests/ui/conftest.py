import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui import app
from nicegui.testing import User

from services.staff.accounts import create_first_owner
from services.storage.database import close_database, open_database
from tests.conftest import ShopTemplate, discard
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD


@pytest.fixture(scope="session")
def owners_shop(demo_shop: ShopTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopTemplate]:
    """The demo shop with the owner's account, made once per run: argon2 spends a tenth of a second
    on a password by design, and each test hashing the owner's anew added up to half a minute."""
    url = demo_shop.copy(tmp_path_factory.mktemp("owners"))

    async def add_owner() -> None:
        await open_database(database_url=url)
        try:
            await create_first_owner(email=OWNER_EMAIL, name=OWNER_NAME, password=OWNER_PASSWORD)
        finally:
            await close_database()

    asyncio.run(add_owner())
    yield ShopTemplate(url)
    discard(url)


@pytest.fixture(autouse=True)
def shop_for_the_app(owners_shop: ShopTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the app (which the `user` fixture starts from app.py) at a demo shop of this test's own,
    with the owner's account."""
    url = owners_shop.copy(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO_CUSTOMERS", "0")
    # app.py adds its start-up, its sign-in guard and its error handler to the app on every run;
    # keep one test's from reaching the next.
    lifespan = app.router.lifespan_context
    middleware = list(app.user_middleware)
    handlers = list(app._exception_handlers)
    yield
    app.router.lifespan_context = lifespan
    app.user_middleware[:] = middleware
    app.middleware_stack = None
    app._exception_handlers[:] = handlers
    discard(url)


async def sign_in(user: User, email: str, password: str) -> None:
    await user.open("/login")
    user.find(marker="email").type(email)
    user.find(marker="password").type(password)
    user.find(marker="sign-in").click()
    await user.should_see(marker="account", retries=20)


@pytest.fixture(autouse=True)
async def owner_signed_in(request: pytest.FixtureRequest, shop_for_the_app: None, user: User) -> None:
    """Every page needs a signed-in staff member: the owner is, unless the test is marked signed_out."""
    if request.node.get_closest_marker("signed_out") is None:
        await sign_in(user, OWNER_EMAIL, OWNER_PASSWORD)

"""Nobody gets in without signing in: every page, a wrong password, signing out, a deactivated account.

The routes are read from the running app (the one app.py builds: pages, the REST API, NiceGUI's
own), so a route added later is covered without touching these tests; only the few public ones
below may answer without a signed-in staff member or an API token."""

import re

import nicegui
import pytest
from fastapi.routing import iter_route_contexts
from nicegui import app
from nicegui.testing import User

from api import PREFIX
from models.staff import Role
from services.staff.accounts import create_user, set_active
from services.staff.actor import SystemActor
from tests.staff import OWNER_EMAIL, OWNER_PASSWORD
from tests.ui.conftest import sign_in
from ui.staff.auth_pages import PUBLIC_PAGES, safe_next

PUBLIC = {"/login", "/setup", "/favicon.ico", f"{PREFIX}/openapi.json"}  # the API's description, not data
NICEGUI_OWN = (f"/_nicegui/{nicegui.__version__}/", "/_nicegui_ws")  # scripts, styles, the websocket


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(NICEGUI_OWN)


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route of the running app; a mount answers any method."""
    return {
        (method, context.path) for context in iter_route_contexts(app.routes) for method in context.methods or {"GET"}
    }


def filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def page_paths() -> list[str]:
    """Every page of the app that needs a signed-in staff member, with ids filled in."""
    pages = {path for method, path in app_routes() if method == "GET" and not path.startswith("/api/")}
    return sorted(filled(path) for path in pages if not is_public(path) and path != "/logout")


@pytest.mark.signed_out
async def test_every_route_but_the_public_ones_needs_a_signed_in_staff_member_or_a_token(user: User):
    routes = app_routes()
    assert PUBLIC_PAGES <= PUBLIC, "the sign-in guard lets through only pages listed here"
    documented = (await user.http_client.get(f"{PREFIX}/openapi.json")).json()["paths"]
    # OpenAPI writes a path parameter without Starlette's converter ("{sku}" for "{sku:path}").
    api = {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path))
        for method, path in routes
        if path.startswith("/api/") and not is_public(path)
    }
    assert api == {(method.upper(), path) for path, item in documented.items() for method in item}, (
        "every API route is in the OpenAPI document, and every documented one is served"
    )
    assert len(api) >= 21

    for method, path in sorted(routes):
        if is_public(path):
            continue
        response = await user.http_client.request(method, filled(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, f"{method} {path} without a token: {response.status_code}"
            assert set(response.json()) == {"error"}, f"{method} {path}"
        else:
            assert response.status_code == 307, f"{method} {path} signed out: {response.status_code}"
            assert response.headers["location"].startswith("/login?next="), f"{method} {path}"


@pytest.mark.signed_out
async def test_every_page_needs_a_signed_in_staff_member(user: User):
    paths = page_paths()
    assert {"/groups", "/customers", "/settings", "/promotions", "/reports", "/groups/1"} <= set(paths)
    for path in paths:
        await user.open(path)
        await user.should_see("Staff only. Ask the shop's owner for an account.")
        await user.should_not_see(marker="account")


@pytest.mark.signed_out
async def test_a_wrong_password_is_refused_beside_the_field(user: User):
    await user.open("/login")
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type("not the password")
    user.find(marker="sign-in").click()
    await user.should_see("The email or password is not right.", retries=20)
    await user.open("/groups")
    await user.should_see("Staff only. Ask the shop's owner for an account.")


@pytest.mark.signed_out
async def test_signing_in_returns_to_the_page_asked_for_and_signing_out_ends_it(user: User):
    await user.open("/login?next=/customers")
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type(OWNER_PASSWORD)
    user.find(marker="sign-in").click()
    await user.should_see("Everyone who buys from you", retries=20)
    await user.open("/logout")
    await user.open("/customers")
    await user.should_see("Staff only. Ask the shop's owner for an account.")


@pytest.mark.signed_out
async def test_a_deactivated_account_loses_access_at_its_next_step(user: User):
    manager = await create_user(
        email="max@example.com",
        name="Max Manager",
        password="a long password",
        role=Role.MANAGER,
        actor=SystemActor("system"),
    )
    await sign_in(user, "max@example.com", "a long password")
    await user.open("/customers")
    await user.should_see("Everyone who buys from you")
    await set_active(user_id=manager.id, active=False, actor=SystemActor("system"))
    await user.open("/customers")
    await user.should_see("Staff only. Ask the shop's owner for an account.")


@pytest.mark.signed_out
async def test_after_signing_in_only_a_page_of_this_app_is_opened(user: User):
    # Browsers read "/\evil.com" as "//evil.com" (another site) and drop tabs and line breaks.
    for target in ("/\\evil.com", "/\\/evil.com", "\\\\evil.com", "/\t/evil.com", "/\n/evil.com", "/\x00x"):
        assert safe_next(target) == "/groups", repr(target)
    for target in ("//evil.com", "https://evil.com", "javascript:alert(1)", "evil.com", "", None):
        assert safe_next(target) == "/groups", repr(target)
    assert safe_next("/customers?search=Ada%20Lovelace") == "/customers?search=Ada%20Lovelace"

    await user.open("/login?next=/%5Cevil.com")
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type(OWNER_PASSWORD)
    user.find(marker="sign-in").click()
    await user.should_see(marker="new-group", retries=20)  # the groups overview (signing in takes a moment)

"""Nobody gets in without signing in: every page, a wrong password, signing out, a deactivated account."""

import re

import pytest
from fastapi.routing import APIRoute
from nicegui import app
from nicegui.testing import User

from models.staff import Role
from services.staff import create_user, set_active
from tests.staff import OWNER_EMAIL, OWNER_PASSWORD
from tests.ui.conftest import sign_in
from ui.auth_pages import PUBLIC_PAGES


def page_paths() -> list[str]:
    """Every page the app registers (NiceGUI's own routes and the REST API aside), with ids filled in."""
    paths = sorted(
        {
            route.path
            for route in app.routes
            if isinstance(route, APIRoute)
            and not route.path.startswith(("/_nicegui", "/api"))
            and route.path not in PUBLIC_PAGES | {"/logout"}
        }
    )
    return [re.sub(r"\{[^}]+\}", "1", path) for path in paths]


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
        email="max@example.com", name="Max Manager", password="a long password", role=Role.MANAGER, actor="system"
    )
    await sign_in(user, "max@example.com", "a long password")
    await user.open("/customers")
    await user.should_see("Everyone who buys from you")
    await set_active(user_id=manager.id, active=False, actor="system")
    await user.open("/customers")
    await user.should_see("Staff only. Ask the shop's owner for an account.")

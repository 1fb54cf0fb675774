"""Signing in starts a new session: the session cookie a browser had before it opens no staff page
afterwards, whether the person signed in on the sign-in page or created the first owner on the
setup page (tests/e2e/test_security.py plants such a cookie in a real browser)."""

import httpx
import pytest
from nicegui import app
from nicegui.testing import User

from models.staff import StaffUser
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD


async def opens_staff_page(session: str) -> bool:
    """Whether the groups overview opens for a browser holding this session cookie."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as browser:
        response = await browser.get("/groups", headers={"Cookie": f"session={session}"})
    return response.status_code == 200


@pytest.mark.signed_out
async def test_signing_in_gives_the_browser_a_new_session(user: User):
    await user.open("/login")
    before = user.http_client.cookies["session"]
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type(OWNER_PASSWORD)
    user.find(marker="sign-in").click()
    await user.should_see(marker="account", retries=20)

    after = user.http_client.cookies["session"]
    assert after != before
    assert await opens_staff_page(after)
    assert not await opens_staff_page(before)


@pytest.mark.signed_out
async def test_the_first_owner_is_signed_in_with_a_new_session_too(user: User):
    await StaffUser.all().delete()  # a first start: nobody has an account yet
    await user.open("/setup")
    before = user.http_client.cookies["session"]
    user.find(marker="name").type(OWNER_NAME)
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type(OWNER_PASSWORD)
    user.find(marker="repeat").type(OWNER_PASSWORD)
    user.find(marker="create-owner").click()
    await user.should_see(marker="account", retries=20)

    after = user.http_client.cookies["session"]
    assert after != before
    assert await opens_staff_page(after)
    assert not await opens_staff_page(before)

"""The API tokens page: a new token's secret is shown once; a revoked token stops working."""

from nicegui import ui
from nicegui.testing import User

from models.audit import ApiToken
from models.staff import StaffUser
from services.staff.accounts import get_actor
from services.staff.tokens import actor_for_token, create_token
from tests.staff import OWNER_EMAIL


async def test_a_token_is_shown_once_listed_and_revoked_after_confirmation(user: User):
    await user.open("/groups")
    user.find(marker="account").click()
    user.find(marker="menu-tokens").click()
    await user.should_see("API tokens")
    await user.should_see(marker="no-tokens")

    user.find(marker="token-name").type("Inventory sync")
    user.find(marker="create-token").click()
    await user.should_see("Copy it now: you will not see it again.")
    secret = user.find(marker="secret").elements.pop().value
    assert secret.startswith("cg_")
    owner = await actor_for_token(secret=secret)
    assert owner is not None and owner.email == OWNER_EMAIL

    await user.open("/account/tokens")  # the secret is not shown again, only its start
    await user.should_not_see(marker="secret")
    await user.should_see(f"{secret[:10]}…")
    row = user.find(marker="token-list").elements.pop()
    assert "Inventory sync" in [label.text for label in row.descendants() if isinstance(label, ui.label)]

    token_id = (await ApiToken.get(name="Inventory sync")).id
    user.find(marker=f"revoke-{token_id}").click()
    await user.should_see("Programs using this token are refused from their next request.")
    user.find(marker="confirm-revoke").click()
    await user.should_see("“Inventory sync” was revoked.")
    assert await actor_for_token(secret=secret) is None


async def test_a_name_is_required(user: User):
    await user.open("/account/tokens")
    user.find(marker="create-token").click()
    await user.should_see("Give the token a name, e.g. where it is used.")
    owner = await get_actor(user_id=(await StaffUser.get(email=OWNER_EMAIL)).id)
    assert owner is not None
    _, secret = await create_token(actor=owner, name="Made elsewhere")
    await user.open("/account/tokens")
    await user.should_see("Made elsewhere")
    await user.should_not_see(secret)

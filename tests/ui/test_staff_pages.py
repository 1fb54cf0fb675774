"""The staff page (owner only), my account and the audit log, as a shop owner and a manager use them."""

import pytest
from nicegui import ui
from nicegui.testing import User

from models.staff import Role, StaffUser
from services.staff.accounts import create_user
from services.staff.actor import SystemActor
from tests.staff import OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD
from tests.ui.conftest import sign_in

MANAGER_EMAIL, MANAGER_PASSWORD = "max@example.com", "a long password"


def element(user: User, marker: str) -> ui.element:
    return next(iter(user.find(marker=marker).elements))


def texts(user: User, marker: str) -> list[str]:
    """The texts of the elements with `marker`, in page order."""
    return [label.text for label in sorted(user.find(marker=marker).elements, key=lambda label: label.id)]


async def test_the_owner_invites_a_manager_changes_the_role_and_deactivates(user: User):
    await user.open("/staff")
    await user.should_see("Olivia Owner (you)")
    user.find(marker="invite").click()
    user.find(marker="invite-name").type("Max Manager")
    user.find(marker="invite-email").type("not an email")
    user.find(marker="invite-submit").click()
    await user.should_see("Enter an email address like anna@example.com.")  # beside the field
    assert element(user, "invite-email").error == "Enter an email address like anna@example.com."

    user.find(marker="invite-email").clear().type(MANAGER_EMAIL)
    password = element(user, "invite-password").value
    assert len(password) >= 10, "a first password is suggested"
    user.find(marker="invite-submit").click()
    await user.should_see("can now sign in as Manager with this first password", retries=20)
    assert element(user, "invite-given").text == password
    max_ = await StaffUser.get(email=MANAGER_EMAIL)
    assert max_.role == Role.MANAGER and max_.password_hash != password
    user.find(marker="invite-close").click()
    await user.should_see(marker=f"staff-{max_.id}")
    assert element(user, f"status-{max_.id}").text == "Active"

    element(user, f"role-{max_.id}").value = Role.VIEWER
    await user.should_see("Max Manager is now Viewer.")
    assert (await StaffUser.get(id=max_.id)).role == Role.VIEWER

    user.find(marker=f"deactivate-{max_.id}").click()
    await user.should_see(f"Deactivate {max_.name}?")
    user.find(marker="confirm").click()
    await user.should_see("Max Manager was deactivated.")
    assert element(user, f"status-{max_.id}").text == "Deactivated"
    assert not (await StaffUser.get(id=max_.id)).active
    await user.should_see(marker=f"reactivate-{max_.id}")

    # Every change is in the audit log, newest first, with what changed.
    await user.open("/audit")
    assert texts(user, "audit-what")[:3] == [
        "Deactivated Max Manager",
        "Changed the role of Max Manager",
        "Invited Max Manager",
    ]
    assert texts(user, "audit-before")[:2] == ["Yes", "manager"], "role manager -> viewer, active Yes -> No"


async def test_the_last_owner_cannot_be_demoted(user: User):
    owner = await StaffUser.get(email=OWNER_EMAIL)
    await user.open("/staff")
    await user.should_see("Olivia Owner (you)")
    element(user, f"role-{owner.id}").value = Role.MANAGER
    message = "Olivia Owner is the last owner: make someone else owner first."
    await user.should_see(message)
    assert element(user, f"role-{owner.id}").error == message
    assert element(user, f"role-{owner.id}").value == Role.OWNER
    assert (await StaffUser.get(id=owner.id)).role == Role.OWNER


async def test_the_audit_log_filters_by_what_changed_and_text(user: User):
    await create_user(
        email="vera@example.com",
        name="Vera Viewer",
        password="a long password",
        role=Role.VIEWER,
        actor=SystemActor("system"),
    )
    await user.open("/settings")
    user.find(marker="save-settings").click()
    await user.should_see("Settings saved.")

    await user.open("/audit")
    await user.should_see("Updated the shop settings")
    await user.should_see("Invited Vera Viewer")
    element(user, "filter-subject").value = "staff"
    await user.should_not_see("Updated the shop settings")
    await user.should_see("Invited Vera Viewer")
    element(user, "filter-subject").value = None
    user.find(marker="filter-search").type("shop")
    await user.should_not_see("Invited Vera Viewer")
    await user.should_see("Updated the shop settings")


async def test_my_account_changes_my_password(user: User):
    await user.open("/account")
    user.find(marker="current-password").type("wrong password")
    user.find(marker="new-password").type("a new long password")
    user.find(marker="repeat-password").type("a new long password")
    user.find(marker="save-password").click()
    await user.should_see("That is not your current password.", retries=20)
    user.find(marker="current-password").clear().type(OWNER_PASSWORD)
    user.find(marker="save-password").click()
    await user.should_see("Your password was changed.", retries=20)
    await user.open("/logout")
    await sign_in(user, OWNER_EMAIL, "a new long password")


@pytest.mark.signed_out
async def test_a_manager_sees_that_only_the_owner_manages_staff(user: User):
    await create_user(
        email=MANAGER_EMAIL,
        name="Max Manager",
        password=MANAGER_PASSWORD,
        role=Role.MANAGER,
        actor=SystemActor("system"),
    )
    await sign_in(user, MANAGER_EMAIL, MANAGER_PASSWORD)
    await user.open("/staff")
    await user.should_see("Only the shop's owner manages staff")
    await user.should_not_see(marker="invite")
    await user.should_not_see(marker="staff-list")
    await user.open("/audit")
    await user.should_see("Only the shop's owner reads the audit log")
    await user.should_not_see(marker="menu-staff")
    await user.open("/account")
    await user.should_see(marker="change-password")


async def test_the_staff_page_says_that_invite_shows_a_password_and_sends_nothing(user: User):
    await user.open("/staff")
    await user.should_see("Invite creates the account and shows a first password for you to hand over.")
    await user.should_see("No email is sent.")
    user.find(marker="invite").click()
    await user.should_see("Nothing is sent: give them the first password below yourself")


@pytest.mark.signed_out
async def test_the_owner_who_just_set_up_the_shop_was_last_signed_in_now_not_never(user: User):
    await StaffUser.all().delete()  # a first start: the setup page signs the new owner in
    await user.open("/setup")
    user.find(marker="name").type(OWNER_NAME)
    user.find(marker="email").type(OWNER_EMAIL)
    user.find(marker="password").type(OWNER_PASSWORD)
    user.find(marker="repeat").type(OWNER_PASSWORD)
    user.find(marker="create-owner").click()
    await user.should_see(marker="account", retries=20)

    owner = await StaffUser.get(email=OWNER_EMAIL)
    assert owner.last_login_at is not None
    await user.open("/staff")
    await user.should_see(f"{OWNER_NAME} (you)")
    assert element(user, f"last-sign-in-{owner.id}").text != "Never"


async def test_staff_audit_log_and_api_tokens_are_in_a_menu_labelled_with_the_owners_name(user: User):
    await user.open("/groups")
    account = element(user, "account")
    assert account.text == OWNER_NAME
    assert account.props["aria-label"] == f"Account menu: {OWNER_NAME}"
    user.find(marker="account").click()
    for marker in ("menu-staff", "menu-audit", "menu-tokens"):
        await user.should_see(marker=marker)
    user.find(marker="menu-staff").click()
    await user.should_see("Who can sign in to this app")


async def test_an_audit_search_that_finds_nothing_offers_to_clear_the_filters(user: User):
    await user.open("/audit")
    user.find(marker="filter-search").type("zzz no such change")
    await user.should_see("No changes match these filters.")
    user.find(marker="audit-clear").click()
    await user.should_not_see("No changes match these filters.")
    assert element(user, "filter-search").value == ""

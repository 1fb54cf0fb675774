"""What a viewer sees: every change their role does not allow stays on the page, disabled, with a
tooltip naming the missing permission (the services refuse it anyway)."""

import pytest
from nicegui.testing import User

from models.group import CustomerGroup, GroupType
from models.staff import Role
from services.staff.accounts import change_role, create_user, set_active
from services.staff.actor import SystemActor
from tests.ui.conftest import sign_in

VIEWER_EMAIL, VIEWER_PASSWORD = "vera@example.com", "a long password"


def disabled(user: User, marker: str) -> bool:
    elements = user.find(marker=marker).elements
    return bool(elements) and all(not element.enabled for element in elements)


@pytest.mark.signed_out
async def test_a_viewer_sees_the_changes_disabled_with_the_permission_named(user: User):
    await create_user(
        email=VIEWER_EMAIL, name="Vera Viewer", password=VIEWER_PASSWORD, role=Role.VIEWER, actor=SystemActor("system")
    )
    await sign_in(user, VIEWER_EMAIL, VIEWER_PASSWORD)

    await user.open("/groups")
    await user.should_see("Customer Groups")
    assert disabled(user, "new-group")
    await user.should_see(marker="missing-manage_groups")

    group = await CustomerGroup.filter(type=GroupType.HYBRID).first()
    await user.open(f"/groups/{group.id}")
    await user.should_see(marker="group-name")
    for marker in ("edit-group", "delete-group", "add-customers", "remove-members"):
        assert disabled(user, marker), marker
    await user.should_see(marker="missing-manage_members")
    user.find(marker="tab-rule").click()  # a tab's content is drawn when it is first opened
    await user.should_see(marker="run-rule")
    assert disabled(user, "run-rule")
    await user.should_see(marker="missing-manage_rules")

    await user.open("/settings")
    for marker in ("save-settings", "save-backups", "backup-now"):
        assert disabled(user, marker), marker
    await user.should_see(marker="missing-manage_settings")

    await user.open("/promotions/new")
    assert disabled(user, "save-promotion")

    await user.open("/catalog")
    assert disabled(user, "add-product")


@pytest.mark.signed_out
async def test_a_page_opened_before_a_demotion_is_refused_what_the_role_no_longer_allows(user: User):
    max_ = await create_user(
        email="max@example.com",
        name="Max Manager",
        password=VIEWER_PASSWORD,
        role=Role.MANAGER,
        actor=SystemActor("system"),
    )
    await sign_in(user, "max@example.com", VIEWER_PASSWORD)
    group = await CustomerGroup.get(code="WHOLESALE")
    await user.open(f"/groups/{group.id}")
    user.find(marker="delete-group").click()
    await user.should_see(marker="confirm-delete")

    await change_role(user_id=max_.id, role=Role.VIEWER, actor=SystemActor("system"))  # the owner, on another page
    user.find(marker="confirm-delete").click()
    await user.should_see('You need the "Manage groups" permission for this; your role (Viewer) does not have it.')
    assert await CustomerGroup.exists(id=group.id)

    await change_role(user_id=max_.id, role=Role.MANAGER, actor=SystemActor("system"))
    await set_active(user_id=max_.id, active=False, actor=SystemActor("system"))
    user.find(marker="delete-group").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("Your account was deactivated, so this was not done.")
    assert await CustomerGroup.exists(id=group.id)

"""A ladder's own group holds nobody, as the owner meets it: Settings does not offer it as the default
group (and a default made a ladder earlier is explained beside the field), and the ladder dialog of
a parent that holds customers of its own says to move them first, with nothing to confirm."""

from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor

OWNER = SystemActor("olivia")


async def test_settings_does_not_offer_a_ladders_own_group_and_explains_one_chosen_before(user: User):
    # A default group chosen before it became a ladder (nothing allows that any more).
    await CustomerGroup.filter(is_default=True).update(is_default=False)
    await CustomerGroup.filter(code="TIERED").update(is_default=True)
    tiered = await CustomerGroup.get(code="TIERED")

    await user.open("/settings")
    default = user.find("default-group").elements.pop()
    assert default.value == tiered.id and default.options[tiered.id] == "Tiered Customers", "shown, to be explained"
    await user.should_see("not a ladder's own group")
    user.find("save-settings").click()
    await user.should_see("The settings were not saved.")
    assert default.error == (
        "Tiered Customers is a ladder: its customers are on its rungs, one each, not in Tiered Customers itself, "
        "so nobody can be moved into it. Choose another group."
    )

    retail = await CustomerGroup.get(code="RETAIL")
    default.value = retail.id
    user.find("save-settings").click()
    await user.should_see("Settings saved.")
    await user.open("/settings")
    default = user.find("default-group").elements.pop()
    assert "Tiered Customers" not in default.options.values(), "a ladder's own group is not offered"


async def test_the_ladder_dialog_says_to_move_the_parents_own_customers_first(user: User):
    club = (await create_group(data={"name": "Club", "code": "CLUB"}, actor=OWNER)).id
    for name, code in (("Premium", "PREMIUM"), ("Plus", "PLUS")):
        await create_group(data={"name": name, "code": code, "parent_id": club}, actor=OWNER)
    first = await Customer.all().order_by("name", "id").limit(4).values_list("id", "name")
    await add_members(group_id=club, customer_ids=[cid for cid, _ in first], mode=AddMode.ADD, actor=OWNER)
    names = ", ".join(name for _, name in first[:3])

    await user.open(f"/groups/hierarchy?group={club}")
    user.find(marker="make-ladder").click()
    await user.should_see(f"Club itself holds 4 customers ({names} and 1 more)", marker="ladder-problem", retries=20)
    await user.should_see('"Remove from Group"', marker="ladder-problem")
    assert not user.find(marker="confirm-ladder").elements.pop().enabled
    assert not (await CustomerGroup.get(id=club)).is_ladder

"""The group page's custom data: the owner adds keys and values, sees a bad key refused beside it,
and an edit of the group in the wizard keeps the data."""

from nicegui.testing import User

from models.group import CustomerGroup


async def test_the_owner_adds_custom_data_and_sees_it_on_the_group_page(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}?tab=overview")
    await user.should_see("Custom data")
    await user.should_see(marker="metadata-empty")

    user.find("metadata-edit").click()
    user.find("metadata-key-0").type("erp_id")
    user.find("metadata-value-0").type("C-1042")
    user.find("metadata-add").click()
    await user.should_see(marker="metadata-key-1")
    user.find("metadata-key-1").type("mailing list")
    user.find("metadata-value-1").type("gold-2026")
    user.find("metadata-save").click()

    await user.should_see("The key “mailing list” cannot be used", retries=50)
    assert user.find("metadata-key-1").elements.pop().error.startswith("The key “mailing list” cannot be used")
    assert user.find("metadata-key-0").elements.pop().error is None
    assert (await CustomerGroup.get(id=gold.id)).metadata == {}

    user.find("metadata-key-1").clear().type("mailing_list")
    user.find("metadata-save").click()
    await user.should_see(marker="metadata-list", retries=50)  # saved, then the page reloads
    await user.should_see("C-1042")
    await user.should_see("gold-2026")
    assert (await CustomerGroup.get(id=gold.id)).metadata == {"erp_id": "C-1042", "mailing_list": "gold-2026"}


async def test_a_key_given_twice_is_pointed_out_and_nothing_is_saved(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}?tab=overview")
    user.find("metadata-edit").click()
    user.find("metadata-key-0").type("tier")
    user.find("metadata-value-0").type("gold")
    user.find("metadata-add").click()
    await user.should_see(marker="metadata-key-1")
    user.find("metadata-key-1").type("tier")
    user.find("metadata-save").click()
    await user.should_see("The key “tier” is given twice: keep one.")
    assert (await CustomerGroup.get(id=gold.id)).metadata == {}


async def test_editing_the_group_in_the_wizard_keeps_its_custom_data(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await CustomerGroup.filter(id=gold.id).update(metadata={"erp_id": "C-1042"})
    await user.open(f"/groups/{gold.id}/edit")
    user.find("description").clear().type("Our second tier")
    user.find("Save changes").click()
    await user.should_see("Saved Gold")
    saved = await CustomerGroup.get(id=gold.id)
    assert (saved.description, saved.metadata) == ("Our second tier", {"erp_id": "C-1042"})

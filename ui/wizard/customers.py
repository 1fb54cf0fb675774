"""Wizard step "Customers" (new manual and hybrid groups): pick the first members, so a group can
be created with its customers in one go. They are added once the group is saved."""

from nicegui import ui

from models.group import GroupType
from services.membership.changes import ADD_MODE_LABELS, AddMode
from services.shop import get_shop
from ui.groups.form import GroupForm
from ui.membership.dialogs import CustomerPicker

TITLE = "Customers"
ICON = "group_add"
FIELDS = ("customers",)
OPTIONAL = True


def shown_for(form: GroupForm) -> bool:
    # An existing group's members are managed on its page; an automatic group's follow its rule.
    return form.group_id is None and form.type != GroupType.AUTOMATIC.value


async def render(form: GroupForm, save) -> None:
    shop = await get_shop()
    ui.label("Tick the customers to add now, or skip this: you can add customers later from the group's page.").classes(
        "text-slate-600"
    )
    picker = CustomerPicker(currency=shop.currency, per_page=10)
    if shop.one_group_per_customer:
        form.add_mode = AddMode.MOVE.value
    ui.label("Options:").classes("text-sm text-slate-600")
    mode = ui.radio({m.value: ADD_MODE_LABELS[m] for m in AddMode}, value=form.add_mode).props("inline")
    mode.mark("wizard-add-mode").on_value_change(lambda e: setattr(form, "add_mode", e.value))
    form.members = picker
    await picker.load()

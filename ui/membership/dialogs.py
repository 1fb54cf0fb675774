"""Adding customers to a group and removing members ("Add Customers to Group" and "Remove
Customers from Group"), and the customer picker the new-group wizard shares."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from models.group import GroupType
from services.customers import CustomerFilter, CustomerRow, list_customers
from services.groups.group import GroupChoice, GroupDetail, get_group, group_choices, turn_hybrid
from services.membership.admission import Closed, ClosedToHand, closed_to_hand
from services.membership.changes import (
    ADD_MODE_LABELS,
    REMOVE_MODE_LABELS,
    AddMode,
    AddResult,
    RemoveMode,
    RemoveResult,
    add_members,
)
from services.membership.matching import add_chosen, remove_chosen
from services.paging import Page
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import count, money
from ui.actions import joined, run_action
from ui.dialog_title import dialog_title
from ui.membership.selection import Chosen, Selection
from ui.paged_table import PagedTable
from ui.shell import go_to_with_message
from ui.staff.permissions import guard
from ui.staff.session import current_actor

# A customer's groups as badges (the customer list and the picker).
GROUPS_CELL = r"""
<q-td :props="props">
  <q-badge v-for="g in props.row.groups" :key="g" outline color="primary" class="mr-1">{{ g }}</q-badge>
  <span v-if="!props.row.groups.length" class="text-slate-500">No group</span>
</q-td>
"""

PICKER_COLUMNS = [
    {"name": "name", "label": "Customer", "field": "name", "align": "left"},
    {"name": "purchases", "label": "Purchases", "field": "purchases", "align": "right"},
    {"name": "groups", "label": "Current groups", "field": "groups", "align": "left"},
]
PICKER_NAME_CELL = r"""
<q-td :props="props">
  {{ props.row.name }}
  <q-badge v-if="props.row.blocked" color="negative" class="ml-1">Blocked</q-badge>
  <div class="text-xs text-slate-500">{{ props.row.email }}</div>
</q-td>
"""


def _picker_row(customer: CustomerRow, *, currency: str) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "purchases": money(customer.lifetime_cents, currency=currency, cents_shown="never"),
        "groups": customer.groups,
        "blocked": customer.status == "blocked",
    }


class CustomerPicker:
    """Search customers, page through them and tick them; ticks last across pages and searches."""

    def __init__(self, *, currency: str, not_in_group_id: int | None = None, per_page: int = 10) -> None:
        self.not_in_group_id = not_in_group_id
        self.search = ui.input(placeholder="Search by customer, company or email").props(
            "outlined dense clearable debounce=250 autofocus"
        )
        self.search.classes("w-full").mark("picker-search")
        with self.search.add_slot("prepend"):
            ui.icon("search")
        bar = ui.row().classes("w-full")
        self.rows = PagedTable(
            columns=PICKER_COLUMNS,
            fetch=lambda page, size, seek: list_customers(
                search=self.search.value or "",
                not_in_group_id=self.not_in_group_id,
                page=page,
                per_page=size,
                seek=seek,
            ),
            seeks=True,
            to_row=lambda customer: _picker_row(customer, currency=currency),
            row_key="id",
            per_page=per_page,
            no_data="No customers match this search.",
            selection="multiple",
        )
        self.rows.table.add_slot("body-cell-name", PICKER_NAME_CELL)
        self.rows.table.add_slot("body-cell-groups", GROUPS_CELL)
        self.rows.table.props("dense").mark("picker-table")
        self.selection = Selection(
            self.rows,
            noun=("customer", "customers"),
            marker="picker",
            matching=lambda: CustomerFilter(search=self.search.value or "", not_in_group_id=self.not_in_group_id),
        )
        with bar:
            self.selection.bar()
        self.search.on_value_change(self._searched)

    async def _searched(self) -> None:
        await self.rows.load(page=1)
        self.selection.search_changed()

    async def load(self) -> None:
        await self.rows.load(page=1)
        self.selection.bar.refresh()

    @staticmethod
    async def first_page(*, not_in_group_id: int | None, per_page: int) -> Page[CustomerRow]:
        """The rows a new picker starts with, to fetch before building it (see `show`)."""
        return await list_customers(not_in_group_id=not_in_group_id, page=1, per_page=per_page)

    def show(self, first_page: Page[CustomerRow]) -> None:
        self.rows.show(first_page)
        self.selection.bar.refresh()


def _error_label() -> ui.label:
    label = ui.label().classes("text-negative text-sm")
    label.visible = False
    return label


def _show(label: ui.label, text: str | None) -> None:
    label.text = text or ""
    label.visible = bool(text)


def _show_beside(
    errors: dict[str, str], mode_error: ui.label, error: ui.label, *, also_shown: tuple[str, ...] = ()
) -> None:
    """A refused add or remove: the message about the mode beside the options, the rest (but those
    `also_shown` elsewhere) in the dialog's own message."""
    _show(mode_error, errors.get("mode"))
    _show(error, " ".join(text for key, text in errors.items() if key not in ("mode", *also_shown)))


async def open_add_dialog(group: GroupDetail, *, on_cancel: Callable[[], None] | None = None) -> None:
    """The "Add Customers to Group" dialog; for an automatic group, first why it takes no one
    by hand, with the offer to turn it hybrid and go on. `on_cancel`: called when closed unused."""
    if _rule_decides(group):
        _automatic_dialog(group, "add customers to it by hand", then=open_add_dialog)
        return
    shop = await get_shop()
    # Fetched first, so the dialog and its rows reach the browser in one update (drawn once).
    first_page = await CustomerPicker.first_page(not_in_group_id=group.id, per_page=6)
    with ui.dialog() as dialog, ui.card().classes("w-[56rem] max-w-full gap-3").mark("add-dialog"):
        dialog_title(dialog, f"Add Customers to Group: {group.name}")
        if group.capacity:
            ui.label(f"Capacity: {group.members:,} of {group.capacity:,} places taken.").classes(
                "text-sm text-slate-500"
            )
        # Few rows per page, so the options and buttons stay in view on a laptop screen.
        picker = CustomerPicker(currency=shop.currency, not_in_group_id=group.id, per_page=6)
        ui.label("Options:").classes("text-sm text-slate-600")
        default_mode = AddMode.MOVE if shop.one_group_per_customer else AddMode.ADD
        mode = ui.radio({m.value: ADD_MODE_LABELS[m] for m in AddMode}, value=default_mode.value).props("inline")
        mode.mark("add-mode")
        mode_error = _error_label().mark("add-mode-error")
        if shop.one_group_per_customer:
            ui.label("This shop allows one group per customer: customers in another group must be moved.").classes(
                "text-xs text-slate-500"
            )
        reason = (
            ui.input("Reason (optional)").props("outlined dense maxlength=500").classes("w-full").mark("add-reason")
        )
        error = _error_label().mark("add-error")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            submit = ui.button("Add to Group", icon="person_add").mark("confirm-add")
            guard(submit, Permission.MANAGE_MEMBERS)

    async def add() -> None:
        _show(mode_error, None)
        _show(error, None)
        if not picker.selection.count:
            _show(error, "Select at least one customer.")
            return
        added = await run_action(
            lambda: _add(group, picker, AddMode(mode.value), reason.value or ""),
            errors=lambda errors: _show_beside(errors, mode_error, error),
            refused=lambda text: _show(error, text),
            missing=lambda text: _show(error, text),
            busy=[submit],
        )
        if not added:
            return
        result = added.value
        done[0] = True
        go_to_with_message(f"/groups/{group.id}", result.summary(), type="positive" if result.added else "info")

    done = [False]
    submit.on_click(add)
    mode.on_value_change(lambda: _show(mode_error, None))
    _on_hide(dialog, lambda: None if done[0] or on_cancel is None else on_cancel())
    picker.show(first_page)
    dialog.open()


async def open_join_dialog(*, customer_id: int, name: str, in_groups: set[int]) -> None:
    """ "Add to group" on a customer's page: the group page's add, for one customer, with the same
    options and the same checks (services.membership.changes.add_members)."""
    shop = await get_shop()
    # As on the group page: an automatic group takes members only by its rule, an inactive one none.
    open_groups = [c for c in await group_choices(takes_members=True) if c.id not in in_groups]
    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full gap-3").mark("join-dialog"):
        dialog_title(dialog, f"Add {name} to a group")
        if not open_groups:
            ui.label(f"{name} is already in every group that takes customers by hand.").classes("text-slate-600")
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat")
            dialog.on("hide", dialog.delete)
            dialog.open()
            return
        target = _group_select(open_groups).mark("join-group")
        ui.label(
            "Automatic groups take their members from their rule, and inactive groups take none, so they are not listed."
        ).classes("text-xs text-slate-500")
        ui.label("Options:").classes("text-sm text-slate-600")
        default_mode = AddMode.MOVE if shop.one_group_per_customer else AddMode.ADD
        mode = ui.radio({m.value: ADD_MODE_LABELS[m] for m in AddMode}, value=default_mode.value).mark("join-mode")
        mode_error = _error_label().mark("join-mode-error")
        if shop.one_group_per_customer:
            ui.label("This shop allows one group per customer: a customer in another group must be moved.").classes(
                "text-xs text-slate-500"
            )
        reason = ui.input("Reason (optional)").props("outlined dense maxlength=500").classes("w-full")
        reason.mark("join-reason")
        error = _error_label().mark("join-error")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            submit = ui.button("Add to Group", icon="person_add").mark("confirm-join")
            guard(submit, Permission.MANAGE_MEMBERS)

    async def join() -> None:
        _show(mode_error, None)
        _show(error, None)
        target.error = None
        if target.value is None:
            target.error = "Choose a group."
            return
        added = await run_action(
            lambda: add_members(
                group_id=target.value,
                customer_ids=[customer_id],
                mode=AddMode(mode.value),
                actor=current_actor(),
                reason=reason.value or "",
            ),
            errors=lambda errors: _show_beside(errors, mode_error, error),
            refused=lambda text: _show(error, text),
            missing=lambda text: _show(error, text),
            busy=[submit],
        )
        if not added:
            return
        result = added.value
        # "Added Acme Corporation to VIP Customers; ...": the person by name, not "1 customer".
        text = result.summary().replace(f"Added {count(1, 'customer')} to", f"Added {name} to", 1)
        go_to_with_message(f"/customers/{customer_id}", text, type="positive" if result.added else "info")

    submit.on_click(join)
    mode.on_value_change(lambda: _show(mode_error, None))
    dialog.on("hide", dialog.delete)
    dialog.open()


def _group_select(choices: list[GroupChoice]) -> ui.select:
    return (
        ui.select({c.id: c.name for c in choices}, label="Group", with_input=True)
        .props("outlined dense")
        .classes("w-full")
    )


async def open_leave_dialog(*, customer_id: int, name: str, group_id: int) -> None:
    """ "Remove" beside a group on a customer's page: the group page's remove dialog for this one
    customer, back on the customer's page afterwards."""
    group = await run_action(lambda: get_group(group_id=group_id), missing=lambda text: ui.notify(text, type="warning"))
    if group:
        await open_remove_dialog(group.value, Chosen({customer_id: name}), back_to=f"/customers/{customer_id}")


async def _add(group: GroupDetail, picker: CustomerPicker, mode: AddMode, reason: str) -> AddResult:
    return await add_chosen(
        group_id=group.id,
        chosen=picker.selection.chosen(),
        mode=mode,
        actor=current_actor(),
        reason=reason,
    )


def _on_hide(dialog: ui.dialog, then: Callable[[], None]) -> None:
    def hidden() -> None:
        dialog.delete()
        then()

    dialog.on("hide", hidden)


async def _turned_hybrid(group: GroupDetail) -> GroupDetail:
    await turn_hybrid(group_id=group.id, actor=current_actor())
    return await get_group(group_id=group.id)


def _automatic_dialog(
    group: GroupDetail, wanted: str, *, then: Callable[..., Awaitable[None]], back_to: str | None = None
) -> None:
    """Why an automatic group takes no one by hand, and a button that turns it hybrid and goes on
    with `then` (the add or remove dialog, for the group as it now is)."""

    async def make_hybrid() -> None:
        turned = await run_action(
            lambda: _turned_hybrid(group),
            errors=lambda errors: ui.notify(joined(errors), type="warning", multi_line=True),
            missing=lambda text: ui.notify(text, type="warning"),
        )
        if not turned:
            return
        hybrid = turned.value
        changed = f"{group.name} is now hybrid: its rule still adds customers, and you can too."
        dialog.close()
        ui.notify(changed, type="positive")
        # Opened where this dialog was opened, not inside it (it is deleted once closed). The page
        # still shows the automatic group: if the owner goes no further, show it as it is now.
        with home:
            await then(hybrid, on_cancel=lambda: go_to_with_message(back_to or f"/groups/{group.id}", changed))

    home = ui.context.slot

    with ui.dialog() as dialog, ui.card().classes("max-w-lg").mark("automatic-dialog"):
        dialog_title(dialog, f"{group.name} follows its rule")
        ui.label(
            f"{group.name} is an automatic group: its members are exactly the customers its rule matches, "
            f"so you cannot {wanted}."
        ).classes("text-slate-600")
        ui.label(
            "Turn it into a hybrid group to keep the rule and also add customers by hand or keep chosen customers "
            "out. The current members stay."
        ).classes("text-slate-600")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            turn = ui.button("Turn into hybrid group", icon="merge_type", on_click=make_hybrid).mark("turn-hybrid")
            guard(turn, Permission.MANAGE_GROUPS)
    dialog.on("hide", dialog.delete)
    dialog.open()


async def open_remove_dialog(
    group: GroupDetail,
    selection: Selection | Chosen,
    *,
    on_cancel: Callable[[], None] | None = None,
    back_to: str | None = None,
) -> None:
    """The "Remove Customers from Group" dialog for the ticked members; for an automatic
    group, first why its members follow its rule, with the offer to turn it hybrid and go on.
    `back_to`: the page to show afterwards (the group's page unless said)."""
    if _rule_decides(group):

        async def then(hybrid: GroupDetail, *, on_cancel: Callable[[], None]) -> None:
            await open_remove_dialog(hybrid, selection, on_cancel=on_cancel, back_to=back_to)

        _automatic_dialog(group, "remove members by hand", then=then, back_to=back_to)
        return
    shop = await get_shop()
    targets = {c.id: c.name for c in await group_choices(exclude_id=group.id, takes_members=True)}
    default_name = shop.default_group_name if shop.default_group_id not in (None, group.id) else None
    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full gap-3").mark("remove-dialog"):
        dialog_title(dialog, "Remove Customers from Group")
        ui.label(f"Group: {group.name}").classes("text-slate-600")
        names = selection.names()
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
            ui.label(f"{count(len(names), 'customer')}: {shown}").classes("text-slate-700").mark("remove-names")
        else:
            ui.label(f"All {count(selection.count, 'member')} that match the search.").classes("text-slate-700")
        ui.label("On Removal:").classes("text-sm text-slate-600")
        if default_name:
            default_label = f"Move to default group ({default_name})"
        elif shop.default_group_id == group.id:
            default_label = "Move to default group (this is the default group)"
        else:
            default_label = "Move to default group (none set: choose one in Settings)"
        options = {
            RemoveMode.DEFAULT_GROUP.value: default_label,
            RemoveMode.OTHER_GROUP.value: "Move to specific group",
            RemoveMode.REMOVE.value: REMOVE_MODE_LABELS[RemoveMode.REMOVE],
        }
        start = RemoveMode.DEFAULT_GROUP if default_name and shop.one_group_per_customer else RemoveMode.REMOVE
        mode = ui.radio(options, value=start.value).mark("remove-mode")
        target = (
            ui.select(targets, label="Group to move them to", with_input=True)
            .props("outlined dense")
            .classes("w-72 ml-8")
            .mark("remove-target")
        )
        target.bind_visibility_from(mode, "value", backward=lambda v: v == RemoveMode.OTHER_GROUP.value)
        mode_error = _error_label().mark("remove-mode-error")
        if group.type == GroupType.HYBRID:
            ui.label("Members the rule matches will be kept out of this group until you add them again.").classes(
                "text-xs text-slate-500"
            )
        reason = ui.input("Reason (optional)").props("outlined dense maxlength=500").classes("w-full")
        reason.mark("remove-reason")
        error = _error_label().mark("remove-error")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            submit = ui.button("Remove from Group", icon="person_remove").props("color=negative")
            submit.mark("confirm-remove")
            guard(submit, Permission.MANAGE_MEMBERS)

    async def remove() -> None:
        _show(mode_error, None)
        _show(error, None)
        target.error = None
        at_target = mode.value == RemoveMode.OTHER_GROUP.value

        def not_removed(errors: dict[str, str]) -> None:
            # The group select is shown only for "Move to specific group": elsewhere its error goes
            # with the dialog's own message, where the owner sees it.
            if at_target:
                target.error = errors.get("target")
            _show_beside(errors, mode_error, error, also_shown=("target",) if at_target else ())

        removed = await run_action(
            lambda: _remove(
                group, selection, RemoveMode(mode.value), target.value if at_target else None, reason.value
            ),
            errors=not_removed,
            refused=lambda text: _show(error, text),
            missing=lambda text: _show(error, text),
            busy=[submit],
        )
        if not removed:
            return
        result = removed.value
        done[0] = True
        go_to_with_message(back_to or f"/groups/{group.id}", result.summary())

    done = [False]
    submit.on_click(remove)
    mode.on_value_change(lambda: _show(mode_error, None))
    _on_hide(dialog, lambda: None if done[0] or on_cancel is None else on_cancel())
    dialog.open()


async def _remove(
    group: GroupDetail, selection: Selection | Chosen, mode: RemoveMode, target_group_id: int | None, reason: str | None
) -> RemoveResult:
    return await remove_chosen(
        group_id=group.id,
        chosen=selection.chosen(),
        mode=mode,
        target_group_id=target_group_id,
        actor=current_actor(),
        reason=reason or "",
    )


def _closed(group: GroupDetail) -> ClosedToHand | None:
    return closed_to_hand(
        name=group.name, type=group.type, status=group.status, is_ladder=group.is_ladder, rungs=group.children
    )


def _rule_decides(group: GroupDetail) -> bool:
    closed = _closed(group)
    return closed is not None and closed.why == Closed.RULE_DECIDES


def add_button_state(group: GroupDetail) -> str | None:
    """Why the group takes no one by hand right now, or None when it does (an automatic group's
    button stays on: it opens the offer to turn the group hybrid)."""
    closed = _closed(group)
    return closed.in_full if closed is not None and closed.why in (Closed.INACTIVE, Closed.LADDER) else None

"""The promotion form, for a new promotion and for editing
one: name, target groups (with the subgroups they bring along), type and the settings that type
needs, minimum purchase, validity, stacking and status; beside it, who the promotion reaches and
what it would have cost. Saving, refusals and the estimate all come from services.promotions."""

import asyncio
from dataclasses import dataclass, field
from datetime import date

from nicegui import background_tasks, ui
from nicegui.elements.mixins.validation_element import ValidationElement
from pydantic import ValidationError

from models.group import GroupStatus
from models.promotion import PromotionStatus, PromotionType
from services.benefits.hierarchy import TreeNode, group_tree, walk
from services.catalog import list_products
from services.errors import NotFoundError
from services.promotions import (
    SHOWN_LABELS,
    TYPE_LABELS,
    PromotionDetail,
    Reach,
    create_promotion,
    delete_promotion,
    get_promotion,
    promotion_reach,
    update_promotion,
    validity_text,
)
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import count, money
from ui.actions import beside, run_action
from ui.benefits.price_check import SearchSelect
from ui.catalog.form import confirm_dialog, error_label, price_input, show_error, to_cents
from ui.promotions.list_page import status_badge
from ui.shell import empty_state, frame, go_to_with_message
from ui.staff.permissions import guard
from ui.staff.session import current_actor

TYPE_FIELDS = {
    PromotionType.ADDITIONAL_DISCOUNT: ("percent", "stack_with_group_discount"),
    PromotionType.FREE_SHIPPING: (),
    PromotionType.FREE_ITEM: ("free_item_id", "free_item_quantity"),
    PromotionType.BOGO: ("buy_quantity", "get_quantity"),
}


def _whole(value) -> int | None:
    return None if value in (None, "") else int(value)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


@dataclass
class PromotionForm:
    """What the owner has entered; `data()` is what the service checks and saves."""

    name: str = ""
    type: str = PromotionType.ADDITIONAL_DISCOUNT.value
    status: str = PromotionStatus.DRAFT.value
    target_group_ids: set[int] = field(default_factory=set)
    include_subgroups: bool = True
    percent: float | None = None
    free_item_id: int | None = None
    free_item_label: str = ""
    free_item_quantity: int | None = 1
    buy_quantity: int | None = None
    get_quantity: int | None = None
    minimum_amount: float | None = None  # in currency units, as typed
    valid_from: str = ""
    valid_to: str = ""
    stack_with_group_discount: bool = False

    @classmethod
    def from_promotion(cls, p: PromotionDetail) -> "PromotionForm":
        return cls(
            name=p.name,
            type=p.type.value,
            status=p.status.value,
            target_group_ids=set(p.target_group_ids),
            include_subgroups=p.include_subgroups,
            percent=p.percent,
            free_item_id=p.free_item_id,
            free_item_label=p.free_item_name or "",
            free_item_quantity=p.free_item_quantity,
            buy_quantity=p.buy_quantity,
            get_quantity=p.get_quantity,
            minimum_amount=p.minimum_purchase_cents / 100 if p.minimum_purchase_cents else None,
            valid_from=_day(p.valid_from),
            valid_to=_day(p.valid_to),
            stack_with_group_discount=p.stack_with_group_discount,
        )

    def data(self, order: list[int]) -> dict:
        """The service's input; targets in the order the form lists them."""
        return {
            "name": self.name or "",
            "type": self.type,
            "status": self.status,
            "target_group_ids": [gid for gid in order if gid in self.target_group_ids],
            "include_subgroups": self.include_subgroups,
            "percent": None if self.percent in (None, "") else float(self.percent),
            "free_item_id": self.free_item_id,
            "free_item_quantity": _whole(self.free_item_quantity) or 0,
            "buy_quantity": _whole(self.buy_quantity),
            "get_quantity": _whole(self.get_quantity),
            "minimum_purchase_cents": to_cents(self.minimum_amount) or 0,
            "valid_from": self.valid_from or None,
            "valid_to": self.valid_to or None,
            "stack_with_group_discount": self.type == PromotionType.ADDITIONAL_DISCOUNT
            and self.stack_with_group_discount,
        }


def subgroup_note(targets: set[int], nodes: list[tuple[TreeNode, int]]) -> str:
    """ "Includes VIP Platinum (a subgroup of VIP Customers)": the subgroups a target brings along
    that the owner did not tick themselves."""
    names = {node.id: node.name for node, _ in nodes}
    parents = {node.id: node.parent_id for node, _ in nodes}

    def under_target(gid: int) -> bool:
        seen, current = set(), parents.get(gid)
        while current is not None and current not in seen:
            if current in targets:
                return True
            seen.add(current)
            current = parents.get(current)
        return False

    parts = [
        f"{names[node.id]} (a subgroup of {names[node.parent_id]})"
        for node, _ in nodes
        if node.id not in targets and node.parent_id is not None and under_target(node.id)
    ]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"Includes {listed}"


class ReachPanel:
    """Who the promotion reaches and what it would have cost, asked for once typing settles; an
    answer to an older request never overwrites a newer one."""

    debounce = 0.4

    def __init__(self, form: PromotionForm, order: list[int], *, currency: str) -> None:
        self.form = form
        self.order = order
        self.currency = currency
        self.generation = 0
        with ui.card().classes("w-full gap-3").mark("reach-panel"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Reach and cost").classes("text-base font-medium")
                self.spinner = ui.spinner(size="sm")
                self.spinner.visible = False
            self.body = ui.column().classes("w-full gap-3")

    def request(self) -> None:
        self.generation += 1
        background_tasks.create(self._run(self.generation), name="promotion reach")

    async def _run(self, generation: int) -> None:
        await asyncio.sleep(self.debounce)
        if generation != self.generation:
            return
        data = self.form.data(self.order)
        data["name"] = data["name"] or "Preview"  # the estimate needs no name
        self.spinner.visible = True
        try:
            reach = await promotion_reach(data=data)
        except ValidationError:
            reach = None
        finally:
            if generation == self.generation:
                self.spinner.visible = False
        if generation != self.generation or self.body.is_deleted:
            return
        self._show(reach, bool(data["target_group_ids"]))

    def _show(self, reach: Reach | None, has_targets: bool) -> None:
        self.body.clear()
        with self.body:
            if reach is None:
                ui.label("Complete the settings to see the estimate.").classes("text-slate-500").mark(
                    "reach-incomplete"
                )
                return
            if not has_targets:
                with ui.row().classes("items-center gap-2 text-slate-500 no-wrap").mark("reach-no-targets"):
                    ui.icon("group_add", size="sm").classes("text-slate-400")
                    ui.label("Choose target groups to see who the promotion reaches.")
                return
            with ui.column().classes("gap-0"):
                ui.label(count(reach.customers, "customer") + " reached").classes(
                    "text-2xl font-semibold text-primary"
                ).mark("reach-customers")
                ui.label("Each customer counted once, whichever target groups they are in.").classes(
                    "text-xs text-slate-500"
                )
            if reach.subgroups:
                ui.label("With subgroups: " + ", ".join(reach.subgroups)).classes("text-sm text-slate-600").mark(
                    "reach-subgroups"
                )
            ui.separator()
            with ui.column().classes("gap-1"):
                ui.label("Cost estimate").classes("text-xs uppercase tracking-wide text-slate-500")
                ui.label(f"Comparable period: {validity_text(reach.period_from, reach.period_to)}").classes(
                    "text-sm text-slate-700"
                ).mark("reach-period")
                if reach.cost_cents is not None:
                    cost = money(reach.cost_cents, currency=self.currency, cents_shown="always")
                    ui.label(cost).classes("text-xl font-semibold text-slate-800").mark("reach-cost-amount")
                ui.label(reach.cost_text).classes("text-sm text-slate-600").mark("reach-cost")
            if self.form.status == PromotionStatus.DRAFT:
                ui.label("As a draft it reaches no one yet: set it to Active to switch it on.").classes(
                    "text-xs text-slate-500 italic"
                )


def _missing() -> None:
    with ui.card().classes("w-full"):
        empty_state("search_off", "This promotion does not exist", "It may have been deleted. Pick one from the list.")
        with ui.row().classes("w-full justify-center pb-8"):
            ui.button("Back to promotions", on_click=lambda: ui.navigate.to("/promotions"))


async def new_promotion_page(group: int | None = None) -> None:
    form = PromotionForm()
    nodes = walk(await group_tree())
    if group is not None and any(node.id == group for node, _ in nodes):
        form.target_group_ids.add(group)
    async with frame("New promotion", section="promotions"):
        await _form_page(form, nodes, promotion=None)


async def edit_promotion_page(promotion_id: int) -> None:
    try:
        promotion = await get_promotion(promotion_id=promotion_id)
    except NotFoundError:
        async with frame("Promotion not found", section="promotions"):
            _missing()
        return
    nodes = walk(await group_tree())
    async with frame(promotion.name, section="promotions"):
        await _form_page(PromotionForm.from_promotion(promotion), nodes, promotion=promotion)


async def _form_page(form: PromotionForm, nodes: list[tuple[TreeNode, int]], *, promotion: PromotionDetail | None):
    order = [node.id for node, _ in nodes]
    currency = (await get_shop()).currency
    inputs: dict[str, ValidationElement] = {}
    title = promotion.name if promotion else "New promotion"

    _heading(title, promotion)

    with ui.row().classes("w-full items-start gap-4 no-wrap"):
        with ui.card().classes("flex-1 min-w-0 gap-4"):
            name = ui.input("Promotion Name", value=form.name).props("outlined autofocus maxlength=120")
            name.classes("w-full max-w-lg").mark("name")
            inputs["name"] = name

            target_error, note, subgroups = _targets(form, nodes, tick=lambda gid, on: tick(gid, on))

            kind, settings = await _type_settings(form, currency=currency)

            with ui.row().classes("items-start gap-4"):
                minimum = price_input(
                    "Minimum Purchase", to_cents(form.minimum_amount), currency=currency, marker="minimum"
                )
                minimum.props("clearable").classes("w-52")
                minimum.props["hint"] = "Empty: any order qualifies"
                valid_from = ui.input("Valid From", value=form.valid_from).props("outlined type=date stack-label")
                valid_from.classes("w-48").mark("valid-from")
                valid_to = ui.input("Valid To", value=form.valid_to).props("outlined type=date stack-label")
                valid_to.classes("w-48").mark("valid-to")
                valid_to.props["hint"] = "Both days count; empty: no end"

            with ui.column().classes("gap-1"):
                ui.label("Status").classes("text-sm font-medium text-slate-700")
                status = ui.radio({"draft": "Draft", "active": "Active"}, value=form.status).props("inline")
                status.mark("status")
            rest = error_label("form-error")

            save_button = _buttons(promotion)

        with ui.column().classes("w-80 shrink-0 sticky top-20"):
            panel = ReachPanel(form, order, currency=currency)

    percent, stack, free_item, item_quantity = settings.percent, settings.stack, settings.free_item, settings.quantity
    buy, get, boxes = settings.buy, settings.get, settings.boxes
    inputs.update(
        percent=percent,
        free_item_id=free_item,
        free_item_quantity=item_quantity,
        buy_quantity=buy,
        get_quantity=get,
        minimum_purchase_cents=minimum,
        valid_from=valid_from,
        valid_to=valid_to,
    )

    def show_type() -> None:
        for kind_value, box in boxes.items():
            box.visible = kind_value == form.type

    def show_note() -> None:
        note.text = subgroup_note(form.target_group_ids, nodes) if form.include_subgroups else ""
        note.visible = bool(note.text)

    def tick(gid: int, on: bool) -> None:
        (form.target_group_ids.add if on else form.target_group_ids.discard)(gid)
        show_error(target_error, None)
        show_note()
        panel.request()

    def watch(element: ui.element, attribute: str, error_key: str | None = None, then=None) -> None:
        def changed(event) -> None:
            setattr(form, attribute, event.value)
            if error_key in inputs:
                inputs[error_key].error = None
            if then:
                then()
            panel.request()

        element.on_value_change(changed)

    show_errors = beside({**inputs, "target_group_ids": _Shown(target_error)}, rest=lambda text: show_error(rest, text))

    watch(name, "name", "name")
    watch(subgroups, "include_subgroups", then=show_note)
    watch(kind, "type", then=show_type)
    watch(percent, "percent", "percent")
    watch(stack, "stack_with_group_discount")
    watch(item_quantity, "free_item_quantity", "free_item_quantity")
    watch(buy, "buy_quantity", "buy_quantity")
    watch(get, "get_quantity", "get_quantity")
    watch(minimum, "minimum_amount", "minimum_purchase_cents")
    watch(valid_from, "valid_from", "valid_from")
    watch(valid_to, "valid_to", "valid_to")
    watch(status, "status", then=lambda: show_error(target_error, None))

    def item_chosen(event) -> None:
        form.free_item_id = event.value
        form.free_item_label = free_item.options.get(event.value, "") if event.value else ""
        free_item.error = None
        panel.request()

    free_item.on_value_change(item_chosen)

    async def save() -> None:
        saved = await run_action(
            lambda: _save(promotion, form.data(order)),
            errors=show_errors,
            refused=lambda text: show_error(rest, text),
            missing=lambda text: go_to_with_message("/promotions", text, type="warning"),
            changed=lambda: _changed_meanwhile(promotion.id),
        )
        if saved:
            go_to_with_message(f"/promotions?shown={saved.value.shown}", saved_text(saved.value))

    save_button.on_click(save)
    for element in (name, percent, item_quantity, buy, get, minimum, valid_from, valid_to):
        element.on("keydown.enter", save)

    show_type()
    show_note()
    panel.request()


class _Shown:
    """An error line (`error_label`) that `beside` shows a field's message in, as it does beside an input."""

    def __init__(self, label: ui.label) -> None:
        self.label = label

    @property
    def error(self) -> str | None:
        return self.label.text or None

    @error.setter
    def error(self, text: str | None) -> None:
        show_error(self.label, text)


@dataclass
class _TypeSettings:
    """The settings each promotion type needs, and the box that holds each type's."""

    percent: ui.number
    stack: ui.checkbox
    free_item: "SearchSelect"
    quantity: ui.number
    buy: ui.number
    get: ui.number
    boxes: dict


def _heading(title: str, promotion: PromotionDetail | None) -> None:
    with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
        ui.link("Promotions", "/promotions").classes("text-slate-500")
        ui.icon("chevron_right")
        ui.label(title)
    with ui.row().classes("items-center gap-3"):
        ui.label(title).classes("text-2xl font-semibold text-slate-800").mark("promotion-title")
        if promotion:
            status_badge(promotion.shown).mark("promotion-status")


def _targets(form: PromotionForm, nodes: list[tuple[TreeNode, int]], *, tick) -> tuple[ui.label, ui.label, ui.switch]:
    """Target groups, as the hierarchy shows them; `tick(group id, on)` when one is ticked. Returns the
    targets' error line, the note on subgroups and the subgroups switch."""
    with ui.column().classes("w-full gap-1"):
        ui.label("Target Groups").classes("text-sm font-medium text-slate-700")
        if not nodes:
            ui.label("There are no groups yet: create a group first.").classes("text-slate-500")
        with ui.column().classes("gap-0").mark("targets"):
            for node, depth in nodes:
                with ui.row().classes("items-center gap-2 no-wrap").style(f"padding-left: {depth * 28}px"):
                    box = ui.checkbox(node.name, value=node.id in form.target_group_ids).props("dense")
                    box.mark(f"target-{node.id}")
                    box.on_value_change(lambda e, gid=node.id: tick(gid, e.value))
                    hint = count(node.members, "member")
                    if node.status != GroupStatus.ACTIVE:
                        hint += f" · {node.status.value} (reaches no one)"
                    ui.label(hint).classes("text-xs text-slate-500")
        target_error = error_label("target-error")
        note = ui.label().classes("text-sm text-slate-600").mark("subgroup-note")
        subgroups = ui.switch("Include members of the targets' subgroups", value=form.include_subgroups)
        subgroups.props("dense").mark("include-subgroups")
    return target_error, note, subgroups


async def _type_settings(form: PromotionForm, *, currency: str) -> tuple[ui.radio, _TypeSettings]:
    """The type, and below it only the settings the chosen type needs."""
    with ui.column().classes("w-full gap-1"):
        ui.label("Promotion Type").classes("text-sm font-medium text-slate-700")
        kind = ui.radio({t.value: label for t, label in TYPE_LABELS.items()}, value=form.type)
        kind.props("inline").mark("type")
    with ui.column().classes("w-full gap-2 pl-2 border-l-2 border-slate-200"):
        with ui.row().classes("items-start gap-4") as discount_box:
            percent = ui.number("Discount", value=form.percent, step=1, suffix="% additional")
            percent.props("outlined").classes("w-48").mark("percent")
            stack = ui.checkbox("Stack with group discount", value=form.stack_with_group_discount)
            stack.mark("stack").classes("mt-2")
            with stack:
                ui.tooltip(
                    "On: the promotion comes on top of the group's price where the group's pricing "
                    "allows stacking. Off: the customer gets the better of the two."
                )
        shipping_box = ui.label("Free shipping on every order at or above the minimum purchase.")
        shipping_box.classes("text-sm text-slate-600")
        with ui.row().classes("items-start gap-4 w-full") as item_box:
            free_item = SearchSelect(
                label="Free item (name or SKU)",
                search=lambda text: _search_products(text, currency=currency),
                keep=lambda: {form.free_item_id: form.free_item_label} if form.free_item_id else {},
            )
            free_item.classes("flex-1 max-w-md").mark("free-item")
            await free_item.load()
            if form.free_item_id:
                free_item.value = form.free_item_id
            item_quantity = ui.number("Quantity", value=form.free_item_quantity, min=1, step=1, precision=0)
            item_quantity.props("outlined dense").classes("w-28").mark("free-item-quantity")
        with ui.row().classes("items-start gap-4") as bogo_box:
            buy = ui.number("Buy", value=form.buy_quantity, min=1, step=1, precision=0, suffix="units")
            buy.props("outlined").classes("w-52").mark("buy-quantity")
            get = ui.number("Get free", value=form.get_quantity, min=1, step=1, precision=0, suffix="units")
            get.props("outlined").classes("w-52").mark("get-quantity")
            ui.label("of the same product").classes("text-sm text-slate-600 mt-4")
    boxes = {
        PromotionType.ADDITIONAL_DISCOUNT: discount_box,
        PromotionType.FREE_SHIPPING: shipping_box,
        PromotionType.FREE_ITEM: item_box,
        PromotionType.BOGO: bogo_box,
    }
    return kind, _TypeSettings(percent, stack, free_item, item_quantity, buy, get, boxes)


def _buttons(promotion: PromotionDetail | None) -> ui.button:
    """Save, Cancel and (when editing) Delete; returns Save."""
    with ui.row().classes("w-full items-center gap-2"):
        save_button = ui.button("Save Promotion", icon="save").mark("save-promotion")
        guard(save_button, Permission.MANAGE_PROMOTIONS)
        ui.button("Cancel", on_click=lambda: ui.navigate.to("/promotions")).props("flat")
        if promotion:
            delete = ui.button("Delete", icon="delete", on_click=lambda: _confirm_delete(promotion))
            delete.props("flat color=negative").classes("ml-auto").mark("delete-promotion")
            guard(delete, Permission.MANAGE_PROMOTIONS)
    return save_button


async def _save(promotion: PromotionDetail | None, data: dict) -> PromotionDetail:
    if promotion:
        return await update_promotion(
            promotion_id=promotion.id, version=promotion.version, data=data, actor=current_actor()
        )
    return await create_promotion(data=data, actor=current_actor())


def _changed_meanwhile(promotion_id: int) -> None:
    with ui.dialog(value=True) as dialog, ui.card().classes("max-w-md").mark("changed-meanwhile"):
        ui.label("This promotion was changed meanwhile").classes("text-lg font-medium")
        ui.label(
            "Someone else saved this promotion after you opened it. Reload to see their version; "
            "your changes on this page will not be saved."
        ).classes("text-slate-600")
        with ui.row().classes("w-full justify-end"):
            ui.button("Keep editing", on_click=dialog.close).props("flat")
            ui.button("Reload", on_click=lambda: ui.navigate.to(f"/promotions/{promotion_id}")).mark("reload")


def saved_text(saved: PromotionDetail) -> str:
    state = {
        "active": "it runs now",
        "scheduled": f"it starts on {saved.valid_from:%B} {saved.valid_from.day}" if saved.valid_from else "",
        "expired": "its last day has passed, so it is listed under Expired",
        "draft": "as a draft it reaches no one until you set it to Active",
    }[saved.shown]
    return f"Saved {saved.name} ({SHOWN_LABELS[saved.shown]}): {state}."


async def _search_products(text: str, *, currency: str) -> list[tuple[int, str]]:
    found = await list_products(search=text, per_page=20)
    return [
        (p.id, f"{p.name} · {p.sku} · {money(p.base_price_cents, currency=currency, cents_shown='always')}")
        for p in found.rows
    ]


def _confirm_delete(promotion: PromotionDetail) -> None:
    async def delete() -> None:
        name = await delete_promotion(promotion_id=promotion.id, actor=current_actor())
        go_to_with_message(f"/promotions?shown={promotion.shown}", f"Deleted {name}.")

    confirm_dialog(
        title=f"Delete {promotion.name}?",
        lines=[
            "Its target groups and their customers stay; the promotion no longer applies to any order.",
            "This cannot be undone. To pause it instead, set it to Draft.",
        ],
        action="Delete promotion",
        on_confirm=delete,
        marker="promotion-delete",
        permission=Permission.MANAGE_PROMOTIONS,
    )

"""Wizard step "Visibility & portal": which products members see,
with live counts of the products hidden from them and the exclusive ones they get, and their
portal access. Visibility is additive: a child sees what its parent sees, plus its own."""

from nicegui import ui

from services.benefits.sections import SHOP_ACCESS_LABELS, VISIBILITY_LABELS, ShopAccess, VisibilityMode
from services.benefits.summary import visibility_text
from services.catalog import count_visibility
from ui.groups.benefits import (
    ErrorText,
    StepContext,
    benefit_step,
    choice_field,
    inherit_switch,
    section_title,
    yes_no_field,
)
from ui.groups.form import GroupForm

TITLE = "Visibility & portal"
ICON = "visibility"
FIELDS = ("visibility", "portal")
OPTIONAL = True


async def render(form: GroupForm, save) -> None:
    await benefit_step(form, TITLE, draw)


async def draw(ctx: StepContext, redraw) -> None:
    own = ctx.own("visibility")
    with ui.row().classes("w-full gap-8 items-start no-wrap max-lg:flex-wrap"):
        with ui.column().classes("flex-grow min-w-0 gap-2"):
            section_title("Product Access")
            inherit_switch(ctx, "visibility", redraw)
            if ctx.inherits("visibility"):
                ui.label(f"Members see what {ctx.parent.group_name} members see, plus what you add here.").classes(
                    "text-sm text-slate-500"
                )
            modes = {m.value: VISIBILITY_LABELS[m] for m in VisibilityMode}
            unset = "Standard products only"
            if ctx.inherits("visibility"):
                inherited, _ = visibility_text(ctx.parent.visibility, ctx.names)
                unset = f"As {ctx.parent.group_name}: {inherited}"
            mode = ui.radio({"": unset, **modes}, value=own.get("mode") or "")
            mode.mark("visibility.mode")
            await _choices(ctx, mode)
        with ui.column().classes("w-[26rem] max-lg:w-full shrink-0 gap-2"):
            section_title("Portal Access")
            inherit_switch(ctx, "portal", redraw)
            with ui.column().classes("w-full gap-1"):
                yes_no_field(ctx, "portal", "login", "Portal Login", True, ("Enabled", "Disabled"))
                choice_field(
                    ctx,
                    "portal",
                    "shop_access",
                    "Shop Access",
                    {a.value: SHOP_ACCESS_LABELS[a] for a in ShopAccess},
                    default=ShopAccess.FULL.value,
                ).classes("w-full")
                yes_no_field(ctx, "portal", "quote_requests", "Quote Requests", False, ("Enabled", "Disabled"))
                yes_no_field(ctx, "portal", "order_placement", "Order Placement", True, ("Enabled", "Disabled"))
                yes_no_field(ctx, "portal", "invoice_access", "Invoice Access", True, ("Full", "None"))


async def _choices(ctx: StepContext, mode: ui.radio) -> None:
    own = ctx.own("visibility")
    choices = ctx.choices
    inherited_groups = (
        set(ctx.inherited("visibility", "visibility_group_ids").value or []) if ctx.inherits("visibility") else set()
    )
    inherited_products = (
        set(ctx.inherited("visibility", "product_ids").value or []) if ctx.inherits("visibility") else set()
    )
    inherited_mode = ctx.inherited("visibility", "mode").value if ctx.inherits("visibility") else None

    async def recount() -> None:
        counted = await count_visibility(
            all_products=own.get("mode") == VisibilityMode.ALL.value or inherited_mode == VisibilityMode.ALL,
            visibility_group_ids=sorted(inherited_groups | set(own.get("visibility_group_ids") or [])),
            product_ids=sorted(inherited_products | set(own.get("product_ids") or [])),
        )
        counts.clear()
        with counts:
            ui.label(f"Hidden Products: {counted.hidden:,}").mark("hidden-count")
            ui.label(f"Exclusive Products: {counted.exclusive:,}").mark("exclusive-count")
            ui.label(f"of {counted.visible + counted.hidden:,} products").classes("text-slate-500")

    @ui.refreshable
    def pickers() -> None:
        current = own.get("mode") or ""
        if current == VisibilityMode.GROUPS.value:
            ui.label("Assigned Visibility Groups:").classes("text-sm text-slate-600")
            chosen = set(own.get("visibility_group_ids") or [])
            error = ErrorText()
            for group_id, name in choices.visibility_groups.items():
                fixed = group_id in choices.standard_ids or group_id in inherited_groups
                box = ui.checkbox(name, value=fixed or group_id in chosen).mark(f"visibility-group-{group_id}")
                if fixed:
                    box.props("disable")
                    why = "shown to every customer" if group_id in choices.standard_ids else "from the parent group"
                    with box:
                        ui.tooltip(f"Always on: {why}")
                else:
                    box.on_value_change(lambda e, gid=group_id: toggle(gid, e.value))
            if not choices.visibility_groups:
                ui.label("The catalog has no visibility groups yet.").classes("text-sm text-slate-500")
            ctx.form.inputs["visibility.visibility_group_ids"] = error
        elif current == VisibilityMode.CUSTOM.value:
            picker = ui.select(
                choices.products,
                label="Products these members also see",
                multiple=True,
                value=own.get("product_ids") or [],
                with_input=True,
            )
            picker.props("outlined use-chips clearable").classes("w-full").mark("visibility.product_ids")
            picker.on_value_change(products_changed)
            ctx.form.inputs["visibility.product_ids"] = picker

    async def toggle(group_id: int, on: bool) -> None:
        chosen = set(own.get("visibility_group_ids") or [])
        chosen = chosen | {group_id} if on else chosen - {group_id}
        own["visibility_group_ids"] = sorted(chosen) or None
        ctx.form.clear_error("visibility.visibility_group_ids")
        await recount()

    async def products_changed(event) -> None:
        own["product_ids"] = list(event.value or []) or None
        ctx.form.clear_error("visibility.product_ids")
        await recount()

    async def mode_changed(event) -> None:
        own["mode"] = event.value or None
        pickers.refresh()
        await recount()

    mode.on_value_change(mode_changed)
    with ui.column().classes("w-full gap-1 pl-8"):
        pickers()
    counts = ui.row().classes("gap-6 text-slate-700 mt-1").mark("visibility-counts")
    await recount()

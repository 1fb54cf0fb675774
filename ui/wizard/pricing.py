"""Wizard step "Pricing": no special pricing, a price list, a
percentage discount or a fixed amount off; for all products, chosen categories or chosen products;
stacking with promotions; a minimum order. A child group can add a percentage on top of its
parent's ("Additional 5% (total 20%)")."""

from nicegui import ui

from services.benefits.sections import PRICING_TYPE_LABELS, SCOPE_LABELS, PricingType, Scope
from services.benefits.summary import percent
from services.wording import amount_text
from ui.groups.benefits import StepContext, benefit_step, choice_field, inherit_switch, number_field, section_title
from ui.groups.form import GroupForm

TITLE = "Pricing"
ICON = "sell"
FIELDS = ("pricing",)
OPTIONAL = True
SECTION = "pricing"


async def render(form: GroupForm, save) -> None:
    await benefit_step(form, TITLE, draw)


def _effective(ctx: StepContext, key: str):
    """This group's value if set, else the inherited one (None when neither)."""
    own = ctx.own(SECTION).get(key)
    if own is not None:
        return own
    inherited = ctx.inherited(SECTION, key)
    return inherited.value if inherited is not None else None


async def draw(ctx: StepContext, redraw) -> None:
    own = ctx.own(SECTION)
    ui.label("What members pay: when several of a customer's groups price a product, the lowest price wins.").classes(
        "text-slate-600"
    )
    inherit_switch(ctx, SECTION, redraw)

    section_title("Pricing Method")
    method = _method(ctx)
    total_holder: dict = {}

    def total() -> None:
        _show_total(ctx, total_holder.get("label"))

    @ui.refreshable
    def scope_pickers() -> None:
        _scope_pickers(ctx)

    @ui.refreshable
    def details() -> None:
        kind = _effective(ctx, "type") or PricingType.NONE.value
        if kind == PricingType.NONE.value:
            ui.label("Members pay the base price (and any promotion).").classes("text-sm text-slate-500")
            return
        with ui.grid(columns=3).classes("w-full gap-x-6 gap-y-2 items-start"):
            _amount_fields(ctx, kind, then=total)
            choice_field(
                ctx,
                SECTION,
                "scope",
                "Apply To",
                {s.value: SCOPE_LABELS[s] for s in Scope},
                default=Scope.ALL.value,
                default_text=SCOPE_LABELS[Scope.ALL],
                then=scope_pickers.refresh,
            )
        total_holder["label"] = ui.label().classes("text-sm text-slate-700").mark("pricing-total")
        total()
        scope_pickers()
        _stack_field(ctx)
        _minimum_order(ctx)

    def method_changed(event) -> None:
        own["type"] = event.value or None
        details.refresh()

    method.on_value_change(method_changed)
    details()


def _method(ctx: StepContext) -> ui.radio:
    """The pricing method; a child group may keep its parent's."""
    own = ctx.own(SECTION)
    types = {t.value: PRICING_TYPE_LABELS[t] for t in PricingType}
    inherited_type = ctx.inherited(SECTION, "type")
    if inherited_type is not None:
        types = {"": f"As {ctx.parent.group_name}: {types[inherited_type.value]}", **types}
    method = ui.radio(types, value=own.get("type") or ("" if inherited_type is not None else "none"))
    method.props("inline").mark("pricing.type")
    return method


def _amount_fields(ctx: StepContext, kind: str, *, then) -> None:
    """The fields of the chosen method: a percentage (and a child's additional one), an amount off or
    a price list. `then`: called when a percentage changes."""
    if kind == PricingType.PERCENTAGE.value:
        number_field(ctx, SECTION, "percent", "Discount Value", suffix="%", shown=lambda v: f"{v:g}", then=then)
        if ctx.parent is not None and ctx.inherits(SECTION):
            number_field(
                ctx,
                SECTION,
                "additional_percent",
                "Additional %",
                suffix="%",
                hint="On top of the inherited discount.",
                then=then,
            )
    elif kind == PricingType.FIXED.value:
        number_field(
            ctx,
            SECTION,
            "fixed_cents",
            "Amount off each unit",
            money=True,
            shown=lambda v: amount_text(v, cents_shown="always"),
        )
    else:
        choice_field(ctx, SECTION, "price_list_id", "Price List", ctx.choices.price_lists)
        if not ctx.choices.price_lists:
            ui.label("The catalog has no price lists yet.").classes("text-sm text-slate-500")


def _total_text(ctx: StepContext) -> str:
    """ "Additional 5% (total 20%)", as the price resolver will add it."""
    own = ctx.own(SECTION)
    extra = own.get("additional_percent")
    inherited = ctx.inherited(SECTION, "percent")
    base = own.get("percent")
    if base is None and inherited is not None:
        base = inherited.value
    if extra:
        return f"Additional {percent(extra)} (total {percent(round((base or 0) + extra, 4))})"
    if base and ctx.parent is not None and own.get("percent") is None and inherited is not None:
        return f"{percent(base)} from {inherited.group_name or ctx.parent.group_name}"
    return ""


def _show_total(ctx: StepContext, label: ui.label | None) -> None:
    if label is None:
        return
    label.text = _total_text(ctx)
    label.set_visibility(bool(label.text))


def _scope_pickers(ctx: StepContext) -> None:
    scope = _effective(ctx, "scope") or Scope.ALL.value
    if scope == Scope.CATEGORIES.value:
        _multi(ctx, "category_ids", "Categories", ctx.choices.categories)
    elif scope == Scope.PRODUCTS.value:
        _multi(ctx, "product_ids", "Products", ctx.choices.products)


def _stack_field(ctx: StepContext) -> None:
    own = ctx.own(SECTION)
    stack = own.get("stack_with_promotions")
    if ctx.inherited(SECTION, "stack_with_promotions") is not None:
        choice_field(
            ctx, SECTION, "stack_with_promotions", "Stack with promotions", {True: "Yes", False: "No"}
        ).classes("w-64")
    else:
        box = ui.checkbox("Stack with promotions", value=True if stack is None else stack)
        box.mark("pricing.stack_with_promotions").on_value_change(lambda e: own.update(stack_with_promotions=e.value))


def _minimum_order(ctx: StepContext) -> None:
    section_title("Minimum Order")
    with ui.grid(columns=3).classes("w-full gap-x-6 gap-y-2 items-start"):
        number_field(
            ctx,
            SECTION,
            "min_order_cents",
            "Minimum Amount",
            money=True,
            hint="Empty: no minimum order.",
            shown=lambda v: amount_text(v, cents_shown="never"),
        )
        number_field(ctx, SECTION, "min_order_quantity", "Minimum Quantity", hint="Units in the cart; empty: none.")


def _multi(ctx: StepContext, key: str, label: str, options: dict[int, str]) -> None:
    own = ctx.own(SECTION)
    inherited = ctx.inherited(SECTION, key)
    value = own.get(key)
    picker = ui.select(options, label=label, multiple=True, value=value or [], with_input=True)
    picker.props("outlined use-chips clearable").classes("w-full").mark(f"pricing.{key}")
    if inherited is not None and inherited.value and not value:
        picker.props["hint"] = f"Empty: as {ctx.parent.group_name} ({len(inherited.value)} chosen)"

    def changed(event) -> None:
        own[key] = list(event.value or []) or None
        ctx.form.clear_error(f"pricing.{key}")

    picker.on_value_change(changed)
    ctx.form.inputs[f"pricing.{key}"] = picker

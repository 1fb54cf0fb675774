"""A group's benefits on its pages: the group page's Benefits Summary card, and the pieces
the wizard's benefit steps (Pricing, Visibility & portal, Payment terms) share: the "Inherit from
<parent>" switch, inputs that show the inherited value while empty, money in currency units stored in cents.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from services.benefits.sections import EffectiveBenefits, Setting, effective_benefits
from services.benefits.summary import CatalogChoices, CatalogNames, catalog_choices, group_summary
from services.errors import NotFoundError
from services.groups.group import GroupDetail
from services.shop import get_shop
from services.wording import currency_symbol
from ui.groups.form import GroupForm

# --- The group page's summary card ---------------------------------------------------------------


async def benefits_card(group: GroupDetail) -> None:
    """The "Benefits Summary", with where a child's settings come from and a link to edit."""
    benefits, summary = await group_summary(group_id=group.id)
    with ui.card().classes("w-full").mark("benefits-summary"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Benefits Summary").classes("text-base font-medium")
            ui.link("Edit benefits", f"/groups/{group.id}/edit?step=pricing").classes("text-sm text-primary").mark(
                "edit-benefits"
            )
        if len(benefits.chain) > 1:
            ui.label(f"Inherits from {' › '.join(benefits.chain[:-1])} where this group sets nothing itself.").classes(
                "text-sm text-slate-500"
            )
        rows = [
            ("Pricing", summary.pricing, _pricing_setting(benefits), summary.pricing_note or summary.minimum_order),
            ("Visibility", summary.visibility, benefits.visibility["mode"], ""),
            ("Portal Access", summary.portal, benefits.portal["login"], ""),
            ("Payment Terms", summary.payment_terms, benefits.payment["net_days"], ""),
            ("Credit Limit", summary.credit_limit, benefits.payment["credit_limit_cents"], ""),
            ("Early Pay Discount", summary.early_pay, benefits.payment["early_discount_percent"], ""),
        ]
        with ui.grid(columns="max-content 1fr").classes("w-full gap-x-6 gap-y-1 items-baseline"):
            for label, text, setting, note in rows:
                ui.label(label).classes("text-xs uppercase tracking-wide text-slate-500")
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(text).classes("text-slate-800").mark(f"benefit-{label.lower().replace(' ', '-')}")
                    if note:
                        ui.label(note).classes("text-xs text-slate-500")
                    if setting.origin == "inherited":
                        ui.label(setting.source_text(for_group_id=group.id)).classes("text-xs text-slate-500")


def _pricing_setting(benefits: EffectiveBenefits) -> Setting:
    """The setting that decides the price: the percentage (with its note), amount or price list."""
    key = {"percentage": "percent", "fixed": "fixed_cents", "price_list": "price_list_id"}.get(
        benefits.pricing["type"].value, "type"
    )
    return benefits.pricing[key]


# --- The wizard's benefit steps ------------------------------------------------------------------


@dataclass
class StepContext:
    """What a benefit step draws from: the form, the parent's effective benefits, the catalog, and
    the shop's currency."""

    form: GroupForm
    parent: EffectiveBenefits | None
    choices: CatalogChoices
    currency: str

    @property
    def names(self) -> CatalogNames:
        c = self.choices
        return CatalogNames(
            currency=self.currency,
            price_lists=c.price_lists,
            visibility_groups=c.visibility_groups,
            standard_ids=c.standard_ids,
            categories=c.categories,
        )

    def own(self, section: str) -> dict:
        return self.form.benefits[section]

    def inherits(self, section: str) -> bool:
        return self.parent is not None and self.own(section).get("inherit", True)

    def inherited(self, section: str, key: str) -> Setting | None:
        """The parent's effective setting an empty field takes, when this section inherits."""
        return getattr(self.parent, section).get(key) if self.inherits(section) else None


async def load_context(form: GroupForm) -> StepContext:
    parent = None
    if form.parent_id is not None:
        try:
            parent = await effective_benefits(group_id=form.parent_id)
        except NotFoundError:
            parent = None
    return StepContext(form=form, parent=parent, choices=await catalog_choices(), currency=(await get_shop()).currency)


async def benefit_step(form: GroupForm, title: str, draw: Callable[[StepContext, Callable], Awaitable[None]]) -> None:
    """Draw a step's body, and draw it again when the owner comes back to it after choosing
    another parent (its inherited values change)."""
    drawn_for: dict[str, Any] = {}

    @ui.refreshable
    async def body() -> None:
        drawn_for["parent"] = form.parent_id
        await draw(await load_context(form), body.refresh)

    def shown(step: str) -> None:
        if step == title and drawn_for.get("parent") != form.parent_id:
            body.refresh()

    form.benefit_views.append(shown)
    await body()


def inherit_switch(ctx: StepContext, section: str, redraw: Callable) -> None:
    """ "Inherit from VIP Customers": on, an empty setting takes the parent's value."""
    if ctx.parent is None:
        return

    def toggled(event) -> None:
        ctx.own(section)["inherit"] = event.value
        redraw()

    switch = ui.switch(f"Inherit from {ctx.parent.group_name}", value=ctx.own(section).get("inherit", True))
    switch.mark(f"{section}-inherit").on_value_change(toggled)
    with switch:
        ui.tooltip("On: every setting left empty here takes the parent's value. Off: empty means the shop's default.")


def section_title(text: str) -> None:
    ui.label(text).classes("text-sm font-medium text-slate-700 mt-2")


class ErrorText:
    """An error line for a setting without an input of its own (e.g. a set of checkboxes): the
    form's show_errors sets `.error` like on any input."""

    def __init__(self, marker: str | None = None) -> None:
        self.label = ui.label().classes("text-xs text-negative")
        if marker:
            self.label.mark(marker)
        self.label.set_visibility(False)

    @property
    def error(self) -> str | None:
        return self.label.text or None

    @error.setter
    def error(self, text: str | None) -> None:
        self.label.text = text or ""
        self.label.set_visibility(bool(text))


def setter(ctx: StepContext, section: str, key: str, convert: Callable[[Any], Any] = lambda v: v, then=None):
    """An on-change handler that stores the input's value (None or "": not set here)."""

    def changed(event) -> None:
        value = event.value
        ctx.own(section)[key] = None if value in (None, "") else convert(value)
        ctx.form.clear_error(f"{section}.{key}")
        if then:
            then()

    return changed


def to_cents(amount: float) -> int:
    return round(float(amount) * 100)


def number_field(
    ctx: StepContext,
    section: str,
    key: str,
    label: str,
    *,
    money: bool = False,
    suffix: str = "",
    hint: str = "",
    shown: Callable[[Any], str] = str,
    then=None,
) -> ui.number:
    """A number input for one setting. Money is entered in currency units and stored in cents. While
    empty, a child's input shows the inherited value as its placeholder and hint."""
    own = ctx.own(section).get(key)
    value = own / 100 if money and own is not None else own
    field = ui.number(label, value=value)
    field.props("outlined clearable" + (f' suffix="{suffix}"' if suffix else ""))
    if money:
        field.props["prefix"] = currency_symbol(ctx.currency)
    field.mark(f"{section}.{key}")
    inherited = ctx.inherited(section, key)
    if inherited is not None and inherited.value not in (None, 0, []):
        parent = ctx.parent.group_name if ctx.parent else ""
        field.props["placeholder"] = shown(inherited.value)
        hint = f"Empty: {shown(inherited.value)}{suffix if suffix == '%' else ''} as {parent}"
    if hint:
        field.props["hint"] = hint
    field.on_value_change(setter(ctx, section, key, to_cents if money else _number, then))
    ctx.form.inputs[f"{section}.{key}"] = field
    return field


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def choice_field(
    ctx: StepContext,
    section: str,
    key: str,
    label: str,
    options: dict,
    *,
    default: Any = None,
    default_text: str = "",
    then=None,
) -> ui.select:
    """A select for one setting. A child inheriting the section gets an "As <parent>: ..." choice
    (not set here); a top-level group shows the shop's default while nothing is set."""
    inherited = ctx.inherited(section, key)
    value = ctx.own(section).get(key)
    if inherited is not None:
        text = options.get(inherited.value, default_text or "—")
        options = {None: f"As {ctx.parent.group_name}: {text}", **options}
    elif value is None:
        value = default
        if default not in options:
            options = {default: default_text, **options}
    field = ui.select(options, label=label, value=value).props("outlined").mark(f"{section}.{key}")
    field.on_value_change(setter(ctx, section, key, then=then))
    ctx.form.inputs[f"{section}.{key}"] = field
    return field


def yes_no_field(ctx: StepContext, section: str, key: str, label: str, default: bool, words=("Yes", "No")) -> None:
    """A checkbox for a top-level group; for a child inheriting, a select that can say "as parent"."""
    inherited = ctx.inherited(section, key)
    value = ctx.own(section).get(key)
    if inherited is not None:
        choice_field(ctx, section, key, label, {True: words[0], False: words[1]}).classes("w-full")
        return
    box = ui.checkbox(label, value=default if value is None else value).mark(f"{section}.{key}")
    box.on_value_change(setter(ctx, section, key))

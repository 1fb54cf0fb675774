"""Wizard step "Payment terms": allowed payment methods, Net 15 to 90, credit limit,
auto-approval, purchase orders, and an early-payment discount shown as "2/10 Net 30"."""

from nicegui import ui

from services.benefits.sections import NET_TERMS, PAYMENT_METHOD_LABELS, PaymentMethod
from services.benefits.summary import net_terms
from services.wording import amount_text
from ui.groups.benefits import (
    ErrorText,
    StepContext,
    benefit_step,
    choice_field,
    inherit_switch,
    number_field,
    section_title,
    yes_no_field,
)
from ui.groups.form import GroupForm

TITLE = "Payment terms"
ICON = "payments"
FIELDS = ("payment",)
OPTIONAL = True
SECTION = "payment"


async def render(form: GroupForm, save) -> None:
    await benefit_step(form, TITLE, draw)


async def draw(ctx: StepContext, redraw) -> None:
    own = ctx.own(SECTION)
    shown_terms: dict = {}

    def terms() -> None:
        """ "(2/10 Net 30)": 2% off when paid within 10 days, else due in 30."""
        values = {}
        for key in ("early_discount_percent", "early_discount_days", "net_days"):
            value = own.get(key)
            if value is None and (inherited := ctx.inherited(SECTION, key)) is not None:
                value = inherited.value
            values[key] = value
        discount, days, net = values["early_discount_percent"], values["early_discount_days"], values["net_days"]
        if discount and days:
            shown_terms["label"].text = f"({discount:g}/{days:g}" + (f" Net {net})" if net else ")")
        else:
            shown_terms["label"].text = f"(Net {net})" if net else ""

    inherit_switch(ctx, SECTION, redraw)
    with ui.row().classes("w-full gap-10 items-start no-wrap max-lg:flex-wrap"):
        with ui.column().classes("gap-1 shrink-0"):
            section_title("Payment Options")
            _methods(ctx, redraw)
        with ui.column().classes("flex-grow min-w-0 gap-2"):
            section_title("Net Terms Settings")
            with ui.grid(columns=2).classes("w-full gap-x-6 gap-y-2 items-start"):
                choice_field(
                    ctx,
                    SECTION,
                    "net_days",
                    "Terms",
                    {days: net_terms(days) for days in NET_TERMS},
                    default=None,
                    default_text=net_terms(None),
                    then=terms,
                )
                number_field(
                    ctx,
                    SECTION,
                    "credit_limit_cents",
                    "Credit Limit",
                    money=True,
                    hint="Empty or 0: no credit.",
                    shown=amount_text,
                )
                number_field(
                    ctx,
                    SECTION,
                    "auto_approve_under_cents",
                    "Auto-approve orders under",
                    money=True,
                    hint="Empty: every order waits for approval.",
                    shown=amount_text,
                )
                with ui.element().classes("pt-3"):
                    yes_no_field(ctx, SECTION, "require_po", "Require PO", False)
            section_title("Early Payment")
            with ui.row().classes("items-start gap-3"):
                number_field(
                    ctx,
                    SECTION,
                    "early_discount_percent",
                    "Discount",
                    suffix="%",
                    shown=lambda v: f"{v:g}",
                    then=terms,
                ).classes("w-56")
                ui.label("if paid within").classes("pt-4 text-slate-600")
                number_field(
                    ctx, SECTION, "early_discount_days", "Days", suffix="days", shown=lambda v: f"{v:g}", then=terms
                ).classes("w-56")
            shown_terms["label"] = ui.label().classes("text-slate-700").mark("early-pay-terms")

    terms()


def _methods(ctx: StepContext, redraw) -> None:
    own = ctx.own(SECTION)
    inherited = ctx.inherited(SECTION, "methods")
    chosen = own.get("methods")
    showing = set(chosen if chosen is not None else (inherited.value if inherited is not None else ["credit_card"]))
    error = ErrorText()
    ctx.form.inputs["payment.methods"] = error

    def toggled(method: str, on: bool) -> None:
        current = set(own.get("methods") if own.get("methods") is not None else showing)
        current = current | {method} if on else current - {method}
        own["methods"] = [m.value for m in PaymentMethod if m.value in current]
        error.error = None
        if not reset.visible and inherited is not None:
            reset.set_visibility(True)

    for method in PaymentMethod:
        box = ui.checkbox(PAYMENT_METHOD_LABELS[method], value=method.value in showing)
        box.mark(f"payment-method-{method.value}").on_value_change(lambda e, m=method.value: toggled(m, e.value))

    def use_inherited() -> None:
        own.pop("methods", None)
        redraw()

    reset = ui.button("Use the parent's methods", on_click=use_inherited).props("flat dense no-caps size=sm")
    reset.set_visibility(inherited is not None and chosen is not None)
    if inherited is not None and chosen is None:
        ui.label(f"As {ctx.parent.group_name}").classes("text-xs text-slate-500")

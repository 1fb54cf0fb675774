"""The "Benefits" card on a customer's page: what their groups give them, after inheritance."""

from nicegui import ui

from services.benefits.price_check import benefits_summary


def _row(label: str, mark: str) -> ui.column:
    # On a phone the heading goes above its values, which then have the card's whole width.
    with ui.row().classes(
        "w-full items-start gap-4 no-wrap py-1 border-b border-slate-100 max-md:flex-col max-md:gap-1"
    ):
        ui.label(label).classes("w-32 shrink-0 text-xs uppercase tracking-wide text-slate-500 pt-1")
        return ui.column().classes("gap-0 flex-1").mark(mark)


def _pairs(pairs: tuple[tuple[str, str], ...]) -> None:
    with ui.row().classes("gap-x-6 gap-y-0"):
        for label, value in pairs:
            with ui.row().classes("items-baseline gap-1 no-wrap"):
                ui.label(f"{label}:").classes("text-slate-500")
                ui.label(value).classes("text-slate-800")


async def benefits_card(*, customer_id: int) -> None:
    """Pricing per group, product visibility, portal access (the widest any group gives) and the
    primary group's payment terms, with a link to check a sample order in the price check."""
    summary = await benefits_summary(customer_id=customer_id)
    with ui.card().classes("w-full gap-1").mark("customer-benefits"):
        with ui.row().classes("w-full items-center justify-between"):
            with ui.column().classes("gap-0"):
                ui.label("Benefits").classes("text-base font-medium")
                ui.label("What this customer's groups give them, parent groups' settings included.").classes(
                    "text-sm text-slate-500"
                )
            with (
                ui.link(target=f"/price-check?customer={customer_id}")
                .classes("flex items-center gap-1 text-primary no-underline hover:underline")
                .mark("benefits-price-check-link")
            ):
                ui.icon("calculate", size="sm")
                ui.label("Check a sample order")
        with _row("Pricing", "benefits-pricing"):
            if not summary.pricing:
                ui.label("No special pricing: pays base prices.").classes("text-slate-600")
            for item in summary.pricing:
                # py-0.5: a group's link is a click target of its own, at least 24 px from the next.
                with ui.row().classes("items-baseline gap-0 no-wrap py-0.5"):
                    ui.link(item.group_name, f"/groups/{item.group_id}").classes("font-medium text-primary shrink-0")
                    ui.label(f": {item.text}").classes("text-slate-800 flex-1 min-w-0")
        with _row("Visibility", "benefits-visibility"):
            ui.label(summary.visibility).classes("text-slate-800")
        with _row("Portal access", "benefits-portal"):
            _pairs(summary.portal)
        with _row("Payment terms", "benefits-payment"):
            if summary.payment_group is None:
                ui.label("No primary group: the shop's standard payment terms apply.").classes("text-slate-600")
            else:
                _pairs(summary.payment)
                ui.label(f"From {summary.payment_group}, the primary group.").classes("text-xs text-slate-500")

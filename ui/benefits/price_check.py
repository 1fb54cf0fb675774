"""Price check: pick a customer, put products in a sample cart,
and see each line's price with the trace of every candidate (group prices, promotions alone and stacked
on a group price), the promotions that reach the customer and what they did for the order on its
date, the totals, the minimum-order checks and the payment terms; plus "Why isn't this customer
getting the discount?" for one product.

The page only renders: prices come from services.benefits.pricing, the checklist from services.benefits.troubleshoot.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from nicegui import ui

from services.benefits.price_check import (
    BenefitsSummary,
    Choice,
    ProductChoice,
    PromotionOutcome,
    benefits_summary,
    candidate_origin,
    customer_choice,
    customer_choices,
    find_products,
    get_product_choice,
    is_promotion,
    promotion_outcomes,
)
from services.benefits.pricing import CartLine, LinePrice, Quote, quote
from services.benefits.troubleshoot import Checklist, why_no_discount
from services.errors import NotFoundError
from services.shop import get_shop
from services.wording import money
from ui.actions import in_words, run_action
from ui.shell import empty_state, frame, page_heading

# On a phone a line's figures go under its product (which spans the row), and a candidate's
# verdict and origin under its source and price: no column is cut off.
LINE_GRID = "grid grid-cols-[minmax(0,1fr)_70px_110px_190px_110px] max-md:grid-cols-4 gap-3 items-center w-full"
LINE_PRODUCT = "max-md:col-span-4"
TRACE_GRID = (
    "grid grid-cols-[minmax(0,1.4fr)_100px_minmax(0,1.2fr)_minmax(0,1.3fr)] gap-3 items-start w-full"
    " max-md:grid-cols-2 max-md:gap-y-1"
)


@dataclass
class CartRow:
    product_id: int
    label: str
    quantity: int = 1


@dataclass
class Simulation:
    """What the owner entered and what the services answered."""

    customer: Choice | None = None
    lines: list[CartRow] = field(default_factory=list)
    order_date: str = field(default_factory=lambda: date.today().isoformat())
    quote: Quote | None = None
    outcomes: tuple[PromotionOutcome, ...] = ()
    summary: BenefitsSummary | None = None
    error: str = ""
    runs: int = 0  # answers to older requests are dropped

    def at(self) -> datetime | None:
        try:
            return datetime.combine(date.fromisoformat(self.order_date), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            return None


class SearchSelect(ui.select):
    """A select whose options come from the server as the owner types (never the whole list).
    `keep` gives the options that must stay whatever is typed (the current choice)."""

    def __init__(
        self,
        *,
        label: str,
        search: Callable[[str], Awaitable[list[tuple[int, str]]]],
        keep: Callable[[], dict[int, str]] = dict,
    ) -> None:
        super().__init__({}, label=label, with_input=True)
        self.props("outlined dense clearable")
        self._search = search
        self._keep = keep
        self.on("input-value", lambda e: self.load(e.args), throttle=0.3)

    async def load(self, text: str = "") -> None:
        found = dict(await self._search(text or ""))
        self.set_options({**self._keep(), **found})


async def price_check_page(customer: int | None = None, product: int | None = None) -> None:
    state = Simulation()
    currency = (await get_shop()).currency
    first_product = await _start(state, customer=customer, product=product)
    page = PriceCheck(state, currency=currency)
    async with frame("Price check", section="price-check"):
        page_heading(
            "Price check",
            "Test a sample order: what a customer pays for each product, and why.",
        )
        await page.sample_order()
        page.show_result()
        await page.why_section(first_product)
    await page.calculate()


async def _start(state: Simulation, *, customer: int | None, product: int | None) -> ProductChoice | None:
    """Fill `state` from the address (?customer=…&product=…); returns the product it names, if any."""
    if customer is not None:
        try:
            state.customer = await customer_choice(customer_id=customer)
        except NotFoundError:
            state.error = "That customer no longer exists: pick another."
    first_product = None
    if product is not None:
        try:
            first_product = await get_product_choice(product_id=product)
            state.lines.append(CartRow(first_product.id, f"{first_product.name} · {first_product.sku}"))
        except NotFoundError:
            state.error = "That product no longer exists: pick another."
    return first_product


async def _search_customers(text: str) -> list[tuple[int, str]]:
    return [(c.id, c.label) for c in await customer_choices(search=text)]


async def _search_products(text: str) -> list[tuple[int, str]]:
    return [(p.id, p.label) for p in await find_products(search=text)]


@dataclass
class _Answer:
    """What the services answered for one calculation, and why they stopped if they did."""

    quote: Quote | None = None
    outcomes: tuple[PromotionOutcome, ...] = ()
    summary: BenefitsSummary | None = None
    error: str = ""

    def refused(self, text: str) -> None:
        self.error = text


class PriceCheck:
    """The page: the sample order, the services' answer for it and the "why not" checklist."""

    customer_select: SearchSelect
    product_select: SearchSelect
    why_product: SearchSelect
    why_quantity: ui.number
    why_panel: ui.column

    def __init__(self, state: Simulation, *, currency: str) -> None:
        self.state = state
        self.currency = currency

    # --- What the owner does ------------------------------------------------------------------

    async def calculate(self) -> None:
        state = self.state
        state.runs += 1
        run = state.runs
        answer = _Answer()
        if state.customer is not None:
            await run_action(lambda: self._answer(answer), errors=in_words(answer.refused), missing=answer.refused)
        if run != state.runs:
            return
        state.quote, state.outcomes, state.summary = answer.quote, answer.outcomes, answer.summary
        state.error = answer.error
        self.show_result.refresh()

    async def _answer(self, answer: "_Answer") -> None:
        """The customer's benefits and, for a cart with lines, its quote and what promotions did; each
        kept in `answer` as it comes, so a refusal keeps what came before it."""
        state = self.state
        assert state.customer is not None
        answer.summary = await benefits_summary(customer_id=state.customer.id)
        if state.lines:
            answer.quote = await quote(
                customer_id=state.customer.id,
                lines=[CartLine(row.product_id, row.quantity) for row in state.lines],
                at=state.at(),
            )
            answer.outcomes = await promotion_outcomes(result=answer.quote)

    async def choose_customer(self, value: int | None) -> None:
        if value is None:
            self.state.customer = None
        else:
            self.state.customer = Choice(value, self.customer_select.options.get(value, ""))
        self.why_panel.clear()
        await self.calculate()

    async def add_product(self, value: int | None) -> None:
        if value is None:
            return
        label = self.product_select.options.get(value, "")
        existing = next((row for row in self.state.lines if row.product_id == value), None)
        if existing:
            existing.quantity += 1
            if self.why_product.value == value:
                self.why_quantity.value = existing.quantity
        else:
            self.state.lines.append(CartRow(value, label.rsplit(" · ", 1)[0]))
        await self._ready_for_the_next_product()
        if self.why_product.value is None:  # the checklist below starts from the first product
            self.why_product.set_options({value: label, **self.why_product.options}, value=value)
        self.show_cart.refresh()
        await self.calculate()

    async def _ready_for_the_next_product(self) -> None:
        """An empty picker offering every product again: Quasar keeps the chosen product's name in
        the input (fill-input) and the options found for it, so the next search would have typed
        onto that name and found nothing."""
        self.product_select.value = None
        self.product_select.run_method("updateInputValue", "", True)
        await self.product_select.load()

    async def set_quantity(self, row: CartRow, value: float | None) -> None:
        if value is None or value < 1:
            return
        row.quantity = int(value)
        if self.why_product.value == row.product_id:  # the checklist asks about the same line
            self.why_quantity.value = row.quantity
        await self.calculate()

    async def remove(self, row: CartRow) -> None:
        self.state.lines.remove(row)
        self.show_cart.refresh()
        await self.calculate()

    async def set_date(self, value: str | None) -> None:
        self.state.order_date = value or ""
        await self.calculate()

    async def check(self) -> None:
        """Run the "why not" checklist for the customer and the chosen product."""
        state, why_panel = self.state, self.why_panel
        why_panel.clear()
        with why_panel:
            if state.customer is None:
                ui.label("Pick a customer first.").classes("text-negative").mark("why-error")
                return
            if self.why_product.value is None:
                ui.label("Pick a product to check.").classes("text-negative").mark("why-error")
                return

        def not_found(text: str) -> None:
            with why_panel:
                ui.label(text).classes("text-negative").mark("why-error")

        checked = await run_action(
            lambda: why_no_discount(
                customer_id=state.customer.id,
                product_id=self.why_product.value,
                quantity=int(self.why_quantity.value or 1),
                at=state.at(),
            ),
            missing=not_found,
        )
        if checked:
            with why_panel:
                _checklist(checked.value)

    # --- What the page shows ------------------------------------------------------------------

    async def sample_order(self) -> None:
        """The customer, the order date and the cart."""
        state = self.state
        with ui.card().classes("w-full gap-3"):
            ui.label("Sample order").classes("text-base font-medium")
            with ui.row().classes("w-full items-start gap-4"):
                self.customer_select = SearchSelect(
                    label="Customer",
                    search=_search_customers,
                    keep=lambda: {state.customer.id: state.customer.label} if state.customer else {},
                )
                self.customer_select.classes("flex-1 min-w-[min(320px,100%)]").mark("customer-picker")
                await self.customer_select.load()
                if state.customer is not None:
                    self.customer_select.value = state.customer.id
                self.customer_select.on_value_change(lambda e: self.choose_customer(e.value))
                ui.input("Order date", value=state.order_date, on_change=lambda e: self.set_date(e.value)).props(
                    "outlined dense type=date stack-label"
                ).classes("w-48").mark("order-date")
                ui.button("Calculate", icon="calculate", on_click=self.calculate).mark("calculate")
            ui.separator()
            with ui.column().classes("w-full gap-2"):
                self.show_cart()
            self.product_select = SearchSelect(label="Add a product (name or SKU)", search=_search_products)
            self.product_select.classes("w-full max-w-xl").mark("product-picker")
            with self.product_select.add_slot("prepend"):
                ui.icon("add_shopping_cart")
            await self.product_select.load()
            self.product_select.on_value_change(lambda e: self.add_product(e.value))

    @ui.refreshable_method
    def show_cart(self) -> None:
        if not self.state.lines:
            ui.label("No products yet: add one below.").classes("text-slate-500").mark("cart-empty")
            return
        for row in self.state.lines:
            with ui.row().classes("w-full items-center gap-3 no-wrap").mark("cart-line"):
                ui.icon("inventory_2").classes("text-slate-400")
                ui.label(row.label).classes("flex-1 text-slate-800")
                ui.number(
                    "Quantity",
                    value=row.quantity,
                    min=1,
                    step=1,
                    precision=0,
                    on_change=lambda e, r=row: self.set_quantity(r, e.value),
                ).props("outlined dense").classes("w-28").mark(f"quantity-{row.product_id}")
                ui.button(icon="close", on_click=lambda r=row: self.remove(r)).props(
                    'flat round dense color=grey-7 aria-label="Remove from the sample order"'
                ).mark(f"remove-{row.product_id}").tooltip("Remove from the sample order")

    @ui.refreshable_method
    def show_result(self) -> None:
        state = self.state
        if state.error:
            with ui.row().classes("w-full items-center gap-2 text-negative").mark("price-check-error"):
                ui.icon("error_outline")
                ui.label(state.error)
        if state.customer is None or state.summary is None:
            with ui.card().classes("w-full"):
                empty_state(
                    "calculate",
                    "Pick a customer to check their prices",
                    "Then add products: you will see each line's price, where it comes from, "
                    "the order total and the minimum-order checks.",
                )
            return
        with ui.card().classes("w-full gap-3").mark("price-check-result"):
            ui.label(f"Prices for {state.summary.customer_name}").classes("text-base font-medium")
            _groups(state.summary)
            if state.quote is None:
                ui.label("Add a product to the sample order to see its price.").classes("text-slate-500")
            else:
                _quote(state.quote, state.outcomes, currency=self.currency)
        _payment(state.summary)

    async def why_section(self, first_product: ProductChoice | None) -> None:
        """ "Why isn't this customer getting the discount?" for one product, starting from `first_product`."""
        with ui.card().classes("w-full gap-3").mark("why-section"):
            ui.label("Why isn't this customer getting the discount?").classes("text-base font-medium")
            ui.label(
                "Runs the troubleshooting checklist for the customer above and one product: group assignment, "
                "group status, pricing rule and scope, product exclusions, order date, minimum order."
            ).classes("text-sm text-slate-500")
            with ui.row().classes("w-full items-start gap-4"):
                why_product = self.why_product = SearchSelect(
                    label="Product",
                    search=_search_products,
                    keep=lambda: (
                        {why_product.value: why_product.options[why_product.value]}
                        if why_product.value in why_product.options
                        else {}
                    ),
                )
                why_product.classes("flex-1 max-w-xl").mark("why-product")
                await why_product.load()
                self.why_quantity = (
                    ui.number("Quantity", value=1, min=1, step=1, precision=0)
                    .props("outlined dense")
                    .classes("w-28")
                    .mark("why-quantity")
                )
                ui.button("Check", icon="fact_check", on_click=self.check).mark("why-check")
            self.why_panel = ui.column().classes("w-full gap-2").mark("why-result")
            if first_product is not None:
                why_product.set_options(
                    {first_product.id: first_product.label, **why_product.options}, value=first_product.id
                )


def _groups(summary: BenefitsSummary) -> None:
    with ui.column().classes("w-full gap-1").mark("price-check-groups"):
        with ui.row().classes("items-center gap-2"):
            ui.label("Groups:").classes("text-slate-600")
            if not summary.groups:
                ui.label("none, so this customer pays base prices.").classes("text-slate-500")
            for name in summary.groups:
                primary = name == summary.payment_group
                with ui.badge(color="primary" if primary else "grey-7").props("" if primary else "outline"):
                    if primary:
                        ui.icon("star", size="xs").classes("mr-1")
                    ui.label(name + (" (primary)" if primary else ""))
        for item in summary.pricing:
            with ui.row().classes("items-center gap-2 no-wrap text-sm text-slate-600").mark("customer-pricing"):
                ui.icon("sell", size="xs").classes("text-slate-400")
                ui.label(f"{item.group_name}: {item.text}")


def _quote(result: Quote, outcomes: tuple[PromotionOutcome, ...], *, currency: str) -> None:
    names = [p.name for p in result.promotions]
    with ui.element("div").classes(LINE_GRID + " px-4 text-xs uppercase tracking-wide text-slate-500"):
        ui.label("Product").classes(LINE_PRODUCT)
        ui.label("Qty").classes("text-right")
        ui.label("Base price").classes("text-right")
        ui.label("Price applied").classes("text-right")
        ui.label("Line total").classes("text-right")
    with ui.column().classes("w-full gap-0 border border-slate-200 rounded"):
        for line in result.lines:
            _line(line, names, currency=currency)
    with ui.row().classes("w-full items-start justify-between gap-6 no-wrap max-md:flex-col max-md:items-stretch"):
        with ui.column().classes("gap-4 flex-1 min-w-0"):
            _promotions(result, outcomes)
            _minimums(result)
        with ui.column().classes("gap-1 min-w-[260px]").mark("totals"):
            base_total = money(result.base_total_cents, currency=currency, cents_shown="always")
            order_total = money(result.total_cents, currency=currency, cents_shown="always")
            saving = money(result.savings_cents, currency=currency, cents_shown="always")
            _total("Base total", base_total, "base-total")
            share = result.savings_cents / result.base_total_cents if result.base_total_cents else 0
            _total("Savings", saving + (f" ({share:.0%})" if share else ""), "savings", classes="text-positive")
            ui.separator()
            _total("Order total", order_total, "order-total", classes="text-lg font-semibold")


def _total(label: str, value: str, mark: str, classes: str = "") -> None:
    with ui.row().classes("w-full justify-between gap-6"):
        ui.label(label).classes("text-slate-600 " + classes)
        ui.label(value).classes("text-slate-800 " + classes).mark(mark)


def _line(line: LinePrice, names: list[str], *, currency: str) -> None:
    discounted = line.unit_cents < line.base_unit_cents
    with (
        ui.expansion()
        .classes("w-full border-b border-slate-100")
        # Named by its header's text (Quasar's own name is a bare "Expand" for every line).
        .props('dense header-class=px-4 toggle-aria-label=""')
        .mark(f"line-{line.product_id}") as expansion
    ):
        with expansion.add_slot("header"), ui.element("div").classes(LINE_GRID + " pr-2"):
            with ui.column().classes(f"gap-0 min-w-0 {LINE_PRODUCT}"):
                ui.label(line.name).classes("font-medium text-slate-800 truncate")
                with ui.row().classes("items-center gap-2"):
                    ui.label(line.sku).classes("text-xs text-slate-500")
                    if not line.visible:
                        ui.badge("not visible to this customer", color="warning").props("outline").mark(
                            f"hidden-{line.product_id}"
                        )
            ui.label(f"{line.quantity:,}").classes("text-right")
            ui.label(money(line.base_unit_cents, currency=currency, cents_shown="always")).classes(
                "text-right " + ("text-slate-500 line-through" if discounted else "text-slate-700")
            )
            with ui.column().classes("gap-0 items-end"):
                ui.label(money(line.unit_cents, currency=currency, cents_shown="always")).classes(
                    "font-medium " + ("text-positive" if discounted else "text-slate-800")
                ).mark(f"price-{line.product_id}")
                ui.label(line.winner.source).classes("text-xs text-slate-500 text-right")
            with ui.column().classes("gap-0 items-end"):
                ui.label(money(line.total_cents, currency=currency, cents_shown="always")).classes(
                    "text-right font-medium"
                )
                if line.free_units:
                    ui.label(f"{line.free_units:,} free").classes("text-xs text-positive").mark(
                        f"free-{line.product_id}"
                    )
        _trace(line, names, currency=currency)


def _trace(line: LinePrice, names: list[str], *, currency: str) -> None:
    with ui.column().classes("w-full gap-1 px-4 pb-3").mark(f"trace-{line.product_id}"):
        ui.label("How this price was chosen: every price that could apply, the lowest wins.").classes(
            "text-xs text-slate-500"
        )
        if line.free_note:
            with ui.row().classes("items-center gap-1 text-sm text-positive").mark(f"free-note-{line.product_id}"):
                ui.icon("redeem", size="xs")
                ui.label(f"{line.free_note}: {line.quantity - line.free_units:,} of {line.quantity:,} units charged.")
        with ui.element("div").classes(TRACE_GRID + " text-xs uppercase tracking-wide text-slate-500 pt-1"):
            for title in ("Source", "Price", "Verdict", "Where it comes from"):
                ui.label(title)
        for candidate in line.candidates:
            row_classes = "bg-green-50 rounded" if candidate.won else ""
            promotion = is_promotion(candidate, names)
            with (
                ui.element("div")
                .classes(f"{TRACE_GRID} py-1 px-1 {row_classes}")
                .mark("trace-promotion" if promotion else "trace-candidate")
            ):
                with ui.row().classes("items-center gap-1 no-wrap min-w-0"):
                    if candidate.won:
                        ui.icon("check_circle", size="xs").classes("text-positive")
                    elif promotion:
                        ui.icon("local_offer", size="xs").classes("text-slate-400")
                    ui.label(candidate.source).classes("font-medium" if candidate.won else "text-slate-700")
                ui.label(
                    "—"
                    if candidate.unit_cents is None
                    else money(candidate.unit_cents, currency=currency, cents_shown="always")
                ).classes("font-medium" if candidate.won else "text-slate-700")
                ui.label(candidate.verdict).classes("text-positive" if candidate.won else "text-slate-600")
                ui.label(candidate_origin(candidate, names)).classes("text-slate-600")


OUTCOME_ICONS = {
    "applied": ("check_circle", "text-positive"),
    "not_used": ("info", "text-slate-400"),
    "not_applied": ("cancel", "text-negative"),
}


def _promotions(result: Quote, outcomes: tuple[PromotionOutcome, ...]) -> None:
    with ui.column().classes("gap-1").mark("promotions"):
        ui.label("Promotions").classes("text-sm font-medium text-slate-700")
        if not outcomes:
            ui.label("No active promotion reaches this customer's groups.").classes("text-sm text-slate-500")
        for item in outcomes:
            icon, colour = OUTCOME_ICONS[item.outcome]
            with ui.row().classes("items-start gap-2 no-wrap").mark(f"promotion-{item.outcome}"):
                ui.icon(icon, size="xs").classes(f"{colour} mt-0.5").tooltip(
                    {"applied": "Applied", "not_used": "Valid, nothing gained", "not_applied": "Not applied"}[
                        item.outcome
                    ]
                )
                with ui.column().classes("gap-0 min-w-0"):
                    ui.label(item.name).classes("text-sm font-medium text-slate-800")
                    ui.label(item.text).classes("text-sm text-slate-600")


def _minimums(result: Quote) -> None:
    with ui.column().classes("gap-1").mark("minimums"):
        ui.label("Minimum order").classes("text-sm font-medium text-slate-700")
        if not result.minimums:
            ui.label("None of the customer's groups asks for a minimum order.").classes("text-sm text-slate-500")
        for check in result.minimums:
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("check_circle" if check.met else "cancel", size="xs").classes(
                    "text-positive" if check.met else "text-negative"
                )
                ui.label(check.text).classes("text-sm text-slate-700")


def _payment(summary: BenefitsSummary) -> None:
    with ui.card().classes("w-full gap-2").mark("payment-terms"):
        if summary.payment_group is None:
            ui.label("Payment terms").classes("text-base font-medium")
            ui.label("No primary group: the shop's standard payment terms apply.").classes("text-slate-500")
            return
        with ui.row().classes("items-baseline gap-2"):
            ui.label("Payment terms").classes("text-base font-medium")
            ui.label(f"from {summary.payment_group}, the primary group").classes("text-sm text-slate-500")
        with ui.row().classes("w-full gap-8"):
            for label, value in summary.payment:
                with ui.column().classes("gap-0"):
                    ui.label(label).classes("text-xs uppercase tracking-wide text-slate-500")
                    ui.label(value).classes("text-slate-800")


CHECK_ICONS = {True: ("check_circle", "text-positive"), False: ("cancel", "text-negative")}


def _checklist(checklist: Checklist) -> None:
    failed = checklist.first_failure
    with ui.row().classes(
        "w-full items-start gap-2 p-3 rounded " + ("bg-red-50 text-red-900" if failed else "bg-green-50 text-green-900")
    ):
        ui.icon("report_problem" if failed else "verified").classes("text-xl")
        ui.label(checklist.verdict).classes("flex-1").mark("why-verdict")
    for number, step in enumerate(checklist.steps, start=1):
        icon, colour = CHECK_ICONS.get(step.passed, ("remove_circle_outline", "text-slate-400"))
        with (
            ui.row()
            .classes("w-full items-start gap-3 no-wrap py-1 border-b border-slate-100")
            .mark(f"why-step-{number}")
        ):
            ui.icon(icon).classes(f"{colour} text-xl").tooltip(
                {True: "Passes", False: "Fails", None: "Does not apply"}[step.passed]
            )
            with ui.column().classes("gap-0 flex-1"):
                ui.label(f"{number}. {step.name}").classes("font-medium text-slate-800")
                ui.label(step.text).classes("text-sm text-slate-600")

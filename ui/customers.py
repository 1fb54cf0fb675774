"""Customers: the paged, searchable list and one customer's page."""

from nicegui import ui

from services.csv_export import export_customers_csv
from services.customers import CustomerDetail, CustomerRow, get_customer, list_customers
from services.errors import NotFoundError
from services.groups.group import group_choices
from services.rules.ladder_setup import CustomerStanding, customer_ladders
from services.rules.ladders import RungPlace, rung_places
from services.rules.preview import RuleExplanation, explain_customer
from services.rules.words import Wording
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import SOURCE_LABELS, count, long_date, money, month_year
from ui.benefits.customer_benefits import benefits_card
from ui.membership.dialogs import GROUPS_CELL, open_join_dialog, open_leave_dialog
from ui.membership.history import history_card
from ui.paged_table import PagedTable
from ui.rules.explanation import show_check
from ui.shell import empty_state, frame, no_results, page_heading
from ui.staff.permissions import can, guard
from ui.table_headers import hide_header

COLUMNS = [
    {"name": "name", "label": "Customer", "field": "name", "align": "left"},
    {"name": "email", "label": "Email", "field": "email", "align": "left"},
    {"name": "country", "label": "Country", "field": "country", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left"},
    {"name": "purchases", "label": "Lifetime purchases", "field": "purchases", "align": "right"},
    {"name": "orders", "label": "Orders", "field": "orders", "align": "right"},
    {"name": "groups", "label": "Groups", "field": "groups", "align": "left"},
]
NAME_CELL = r"""
<q-td :props="props">
  <a :href="'/customers/' + props.row.id" class="text-primary no-underline hover:underline">{{ props.row.name }}</a>
  <div v-if="props.row.company && props.row.company != props.row.name" class="text-xs text-slate-500">{{ props.row.company }}</div>
</q-td>
"""
LEAVE_CELL = r"""
<q-td :props="props" auto-width>
  <q-btn outline dense no-caps no-wrap icon="person_remove" label="Remove" color="negative" class="px-2"
         :aria-label="'Remove from ' + props.row.group"
         @click="() => $parent.$emit('leave', {group_id: props.row.id})" />
</q-td>
"""
PRIMARY_CELL = r"""
<q-td :props="props">
  <span v-if="props.row.primary"><q-icon name="star" color="amber-8" size="xs" class="mr-1" aria-hidden="true" />Primary</span>
</q-td>
"""
STATUS_COLORS = {"active": "positive", "inactive": "grey-8", "blocked": "negative"}  # grey-6 was too faint (2.7:1)


def _row(customer: CustomerRow, *, currency: str) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "country": customer.country,
        "status": customer.status.value.capitalize(),
        "purchases": money(customer.lifetime_cents, currency=currency, cents_shown="never"),
        "orders": f"{customer.order_count:,}",
        "groups": customer.groups,
    }


async def customers_page() -> None:
    choices = await group_choices()
    currency = (await get_shop()).currency
    async with frame("Customers", section="customers"):
        page_heading("Customers", "Everyone who buys from you, with their purchases and groups.")
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center gap-4"):
                search = ui.input(placeholder="Search name, company or email")
                search.props("outlined dense clearable debounce=250 autofocus").classes("w-80").mark("customer-search")
                with search.add_slot("prepend"):
                    ui.icon("search")
                group = (
                    ui.select({None: "All groups", **{c.id: c.name for c in choices}}, value=None, label="Group")
                    .props("outlined dense")
                    .classes("w-56")
                    .mark("group-filter")
                )
                total = ui.label().classes("ml-auto text-slate-600").mark("customer-total")

                async def export() -> None:
                    data = await export_customers_csv(search=search.value or "", group_id=group.value)
                    ui.download.content(data, "customers.csv", "text/csv")

                ui.button("Export CSV", icon="download", on_click=export).props("outline no-caps").mark(
                    "export-customers"
                )
                import_button = ui.button(
                    "Import", icon="upload_file", on_click=lambda: ui.navigate.to("/customers/import")
                ).props("no-caps")
                guard(import_button.mark("import-customers"), Permission.MANAGE_CUSTOMERS)
            customers = PagedTable(
                columns=COLUMNS,
                fetch=lambda page, per_page, seek: list_customers(
                    search=search.value or "", group_id=group.value, page=page, per_page=per_page, seek=seek
                ),
                seeks=True,
                to_row=lambda customer: _row(customer, currency=currency),
                row_key="id",
                no_data="No customers match this search.",
            )
            customers.table.add_slot("body-cell-name", NAME_CELL)
            customers.table.add_slot("body-cell-groups", GROUPS_CELL)
            customers.table.mark("customers-table")

            def clear_filters() -> None:
                search.value, group.value = "", None

            none = no_results("No customers match this search and group.", on_clear=clear_filters, mark="customers")

            async def reload() -> None:
                await customers.load(page=1)
                total.text = count(customers.total, "customer")
                nothing = customers.total == 0 and bool(search.value or group.value is not None)
                none.set_visibility(nothing)
                customers.table.set_visibility(not nothing)

            search.on_value_change(reload)
            group.on_value_change(reload)
            await reload()


def _field(label: str, value: str) -> None:
    with ui.column().classes("gap-0 min-w-0"):
        ui.label(label).classes("text-xs uppercase tracking-wide text-slate-500")
        ui.label(value).classes("text-slate-800 wrap-anywhere")  # a long email address wraps in its cell


async def customer_detail_page(customer_id: int) -> None:
    try:
        customer = await get_customer(customer_id=customer_id)
    except NotFoundError:
        async with frame("Customer not found", section="customers"):
            with ui.card().classes("w-full"):
                empty_state("search_off", "This customer does not exist", "Pick a customer from the list.")
        return
    currency = (await get_shop()).currency
    async with frame(customer.name, section="customers"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customers", "/customers").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label(customer.name)
        with ui.row().classes("w-full items-center gap-3"):
            ui.label(customer.name).classes("text-2xl font-semibold text-slate-800").props(
                "role=heading aria-level=1"
            ).mark("customer-name")
            ui.badge(customer.status.value.capitalize(), color=STATUS_COLORS[customer.status.value])
            ui.button(
                "Test prices", icon="calculate", on_click=lambda: ui.navigate.to(f"/price-check?customer={customer.id}")
            ).props("outline").classes("ml-auto").mark("test-prices")
        standings = await customer_ladders(customer_id=customer.id)
        _ladders(standings)
        await _groups_card(customer)
        await _rule_groups(customer.id, currency=currency, standings=standings)
        with ui.row().classes("w-full gap-4 items-stretch max-md:flex-col"):  # on a phone, one under the other
            with ui.card().classes("flex-1"):
                ui.label("Details").classes("text-base font-medium")
                with ui.grid(columns=2).classes("w-full gap-4"):
                    _field("Company", customer.company or "—")
                    _field("Email", customer.email)
                    _field("Country", customer.country or "—")
                    _field("Payment history", customer.payment_rating.value.capitalize())
                    _field("Customer since", long_date(customer.created_at))
                    _field("Tags", ", ".join(customer.tags) or "—")
            with ui.card().classes("flex-1"):
                ui.label("Purchases").classes("text-base font-medium")
                with ui.grid(columns=2).classes("w-full gap-4"):
                    _field("Lifetime purchases", money(customer.lifetime_cents, currency=currency, cents_shown="never"))
                    _field("Orders", f"{customer.order_count:,}")
                    _field("Average order", money(customer.average_order_cents, currency=currency, cents_shown="never"))
                    _field("First order", long_date(customer.first_order_at))
                    _field("Last order", long_date(customer.last_order_at))
        await benefits_card(customer_id=customer.id)
        await history_card(customer_id=customer.id)


def _ladders(standings: list[CustomerStanding]) -> None:
    """Where the customer stands on each ladder, first on their page: their rung, and whether they
    were placed there by hand or are kept there by the hold period."""
    if not standings:
        return
    with ui.card().classes("w-full gap-2").mark("customer-ladders"):
        for standing in standings:
            with ui.row().classes("items-start gap-3 no-wrap"):
                ui.icon("stairs", size="sm").classes("text-primary")
                with ui.column().classes("gap-0"):
                    ui.label(
                        f"{standing.ladder_name}: {standing.rung_name} (rung {standing.position} of {standing.rungs})"
                    ).classes("font-medium text-slate-800").mark("ladder-rung")
                    for note in standing_notes(standing):
                        ui.label(note).classes("text-sm text-slate-600").mark("ladder-note")


def standing_notes(standing: CustomerStanding) -> list[str]:
    """Why the customer stays where they are when the rules would move them."""
    notes = []
    if standing.pinned:
        notes.append("Placed by hand: stays on this rung until removed")
    if standing.held_until is not None:
        notes.append(f"Kept on this rung until {long_date(standing.held_until)} (hold period)")
    return notes


async def _groups_card(customer: CustomerDetail) -> None:
    """The customer's groups first on their page, with the group page's add and remove for them."""
    in_groups = {m.group_id for m in customer.memberships}
    with ui.card().classes("w-full"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Groups").classes("text-base font-medium")
            join = ui.button(
                "Add to group",
                icon="group_add",
                on_click=lambda: open_join_dialog(customer_id=customer.id, name=customer.name, in_groups=in_groups),
            ).props("outline")
            guard(join.mark("join-group-button"), Permission.MANAGE_MEMBERS)
        if customer.memberships:
            table = _memberships(customer)
            if can(Permission.MANAGE_MEMBERS):
                table.columns = [*table.columns, {"name": "leave", "label": "", "field": "leave"}]
                table.add_slot("body-cell-leave", LEAVE_CELL)
                hide_header(table, "leave", "Remove from group")
                table.on(
                    "leave",
                    lambda event: open_leave_dialog(
                        customer_id=customer.id, name=customer.name, group_id=event.args["group_id"]
                    ),
                )
        else:
            ui.label("This customer is not in any group.").classes("text-slate-500")


def _membership_words(item: RuleExplanation, place: RungPlace | None, standing: CustomerStanding | None) -> str:
    """The customer's membership of a rule group beside the rule's verdict; for a rung of a ladder,
    the rung they are on instead when it is another (a customer sits on one rung only)."""
    if place is not None and standing is not None and standing.group_id != item.group_id:
        where = "a higher rung" if standing.position < place.position else "a lower rung"
        why = " (placed by hand)" if standing.pinned and standing.position > place.position else ""
        return f"on {standing.rung_name}, {where} of {place.ladder_name}{why}"
    if item.is_member and not item.check.passed:
        if standing is not None and standing.held_until is not None:
            return f"member until {long_date(standing.held_until)} (hold period)"
        return "member, added by hand"
    if item.is_member:
        return "member"
    if item.check.passed:
        return "not a member: taken out by hand, or not yet applied"
    return "not a member"


async def _rule_groups(customer_id: int, *, currency: str, standings: list[CustomerStanding]) -> None:
    """Every rule-based group, member or not, and why the customer does or does not match it."""
    explanations = await explain_customer(customer_id=customer_id)
    if not explanations:
        return
    places = await rung_places()
    on_ladder = {standing.ladder_id: standing for standing in standings}
    wording = Wording(currency=currency, group_names={c.id: c.name for c in await group_choices()})
    with ui.card().classes("w-full gap-1").mark("rule-groups"):
        ui.label("Rule-based groups").classes("text-base font-medium")
        ui.label("What each group's rule reads about this customer, and whether it matches.").classes(
            "text-sm text-slate-500"
        )
        for item in explanations:
            verdict = "Matches" if item.check.passed else "Does not match"
            place = places.get(item.group_id)
            membership = _membership_words(item, place, on_ladder.get(place.ladder_id) if place else None)
            with (
                ui.expansion(value=item.check.passed)
                .classes("w-full border-b border-slate-100")
                # Named by its header's text (Quasar's own name is a bare "Expand" for every group).
                .props('toggle-aria-label=""')
                .mark(f"why-group-{item.group_id}") as expansion
            ):
                with expansion.add_slot("header"):
                    with ui.row().classes("w-full items-center gap-3"):
                        ui.icon("check_circle" if item.check.passed else "cancel").classes(
                            "text-positive" if item.check.passed else "text-slate-400"
                        )
                        # A label, not a link: the header is itself a button, and a link inside it is
                        # neither announced nor reachable by keyboard; the link opens the check below.
                        ui.label(item.group_name).classes("font-medium text-primary")
                        ui.label(f"{verdict} · {membership}").classes("text-sm text-slate-600")
            _check_when_open(expansion, item, wording)


def _check_when_open(expansion: ui.expansion, item: RuleExplanation, wording: Wording) -> None:
    """The rule's check under a group's header: drawn with the page when it opens expanded (the
    customer matches), else when first expanded: a closed check's elements are built only if wanted."""

    def draw() -> None:
        with expansion:
            ui.link(f"Open {item.group_name}", f"/groups/{item.group_id}").classes("text-sm text-primary")
            show_check(item.check, wording)

    def opened(event) -> None:
        if event.value and len(expansion.default_slot.children) == 0:
            draw()

    if expansion.value:
        draw()
    else:
        expansion.on_value_change(opened)


def _memberships(customer: CustomerDetail) -> ui.table:
    rows = [
        {
            "id": m.group_id,
            "group": m.group_name,
            "assignment": SOURCE_LABELS[m.source],
            "since": month_year(m.since),
            "primary": "Primary" if m.is_primary else "",
        }
        for m in customer.memberships
    ]
    table = (
        ui.table(
            columns=[
                {"name": "group", "label": "Group", "field": "group", "align": "left"},
                {"name": "assignment", "label": "Assignment", "field": "assignment", "align": "left"},
                {"name": "since", "label": "Since", "field": "since", "align": "left"},
                {"name": "primary", "label": "Primary", "field": "primary", "align": "left"},
            ],
            rows=rows,
            row_key="id",
        )
        .props("flat bordered hide-pagination")
        .classes("w-full")
        .mark("customer-groups")
    )
    table.add_slot("body-cell-primary", PRIMARY_CELL)
    table.add_slot(
        "body-cell-group",
        r"""<q-td :props="props"><a :href="'/groups/' + props.row.id" class="text-primary no-underline hover:underline">{{ props.row.group }}</a></q-td>""",
    )
    return table

"""The live preview beside the rule builder: matching customers, who would join or leave (for a rung
of a ladder: who would move up, down, onto or off it), a funnel.

The owner types faster than a preview over a big shop answers, so requests wait a moment for the
typing to settle, and an answer that arrives after a newer request was made is dropped: a stale
count never overwrites a fresh one. On a big shop, when the exact figures take longer than a moment,
an estimate counted on a sample of customers is shown first ("about 230,000", "Counting…") and the
exact figures replace it as soon as they are ready.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from nicegui import background_tasks, ui
from nicegui.client import ClientConnectionTimeout

from services.benefits.sections import EffectiveBenefits
from services.paging import Page
from services.rules.explainer import ConditionCheck, GroupCheck
from services.rules.impact import RuleImpact, rule_impact
from services.rules.ladders import CustomerRef
from services.rules.model import Condition, RuleError, RuleGroup, parse_rule
from services.rules.preview import (
    FunnelStep,
    MatchRow,
    NamedCustomer,
    RulePreview,
    RungPreview,
    estimate_rule,
    list_matches,
    preview_rule,
    rule_funnel,
)
from services.rules.words import Wording, actual_text, condition_text
from services.wording import about, count, money
from ui.dialog_title import dialog_title
from ui.paged_table import PagedTable

# How long a page waits for its first preview before it is served without one (the count then
# follows over the websocket): a small shop's preview is ready in about 10 ms.
FIRST_WITHIN = 0.05
SHOWN_VALUES = 3  # values per sample customer, so a row fits a laptop screen
TRACK = "height: 12px; background: #e2e8f0"  # a funnel bar's full length: every customer


def leaf_checks(check: GroupCheck) -> list[ConditionCheck]:
    found: list[ConditionCheck] = []
    for item in check.items:
        found += leaf_checks(item) if isinstance(item, GroupCheck) else [item]
    return found


def value_texts(check: GroupCheck, wording: Wording) -> list[str]:
    """ "Field: the customer's value" for each field the rule reads, once per field."""
    texts: dict[tuple, str] = {}
    for leaf in leaf_checks(check):
        condition = leaf.condition
        key = (condition.field, condition.months)
        label = condition.spec.label.split(" (")[0]
        if condition.months:
            label = f"Last {condition.months} months"
        texts.setdefault(key, f"{label}: {actual_text(condition, leaf.actual, wording)}")
    return list(texts.values())


def _item_text(item: Condition | RuleGroup, wording: Wording) -> str:
    if isinstance(item, Condition):
        return condition_text(item, wording)
    inner = [_item_text(child, wording) for child in item.conditions]
    return f"({f' {item.match.upper()} '.join(inner)})" if len(inner) > 1 else inner[0]


async def _nothing() -> None:
    return None


def arriving(preview: RulePreview) -> int:
    """The customers the rule would bring into the group: joiners, or a rung's arrivals (moved up or
    down onto it, or new to the ladder); every match for a group not saved yet."""
    if preview.ladder is not None:
        return preview.ladder.moves.arriving
    return preview.change.joining if preview.change is not None else preview.matching


def _way(direction: str, from_name: str | None, to_name: str | None, *, arriving: bool) -> str:
    """A shift seen from the rung previewed: "Up from Silver Tier", "Down to Bronze Tier", "New to
    the ladder", "Off the ladder", "On Premium only" (on two rungs, leaving this one for the other)."""
    if direction == "join":
        return "New to the ladder"
    if direction == "leave":
        return f"On {to_name} only" if to_name else "Off the ladder"
    way = "Up" if direction == "up" else "Down"
    return f"{way} from {from_name}" if arriving else f"{way} to {to_name}"


def _estimated(n: int, what: str) -> str:
    """ "about 1,200 would join"; none in the sample is said so ("about 0" reads as a broken figure)."""
    return f"{about(n)} {what}" if n else f"No one in the sample {what}"


def _names(label: str, samples: Sequence[NamedCustomer | CustomerRef], *, more: int | None = None) -> None:
    """ "Joining: Ann · Bob · Cy and 34 more", each name a link to the customer."""
    if not samples:
        return
    with ui.row().classes("gap-1 items-center text-sm text-slate-600"):
        ui.label(f"{label}:")
        for i, sample in enumerate(samples):
            customer_id = sample.customer_id if isinstance(sample, NamedCustomer) else sample.id
            ui.link(sample.name, f"/customers/{customer_id}").classes("text-primary")
            if i + 1 < len(samples):
                ui.label("·")
        if more is not None and more > len(samples):
            ui.label(f"and {more - len(samples):,} more")


class FirstCount:
    """The page's first preview, asked for before the page is drawn: the database counts in its own
    thread while Python draws the builder (on two cores, the two overlap)."""

    def __init__(self, *, rule: dict, group_id: int | None) -> None:
        self.errors: dict[str, str] = {}
        self.rule: RuleGroup | None = None
        self.counting: asyncio.Future | None = None
        try:
            self.rule = parse_rule(rule)
        except RuleError as error:
            self.errors = error.errors
            return
        self.counting = asyncio.ensure_future(preview_rule(rule=self.rule, group_id=group_id))
        # Its failure is shown by `PreviewPanel.open`; a page that failed before getting there
        # leaves it unread, which is no reason for a "never retrieved" warning in the log.
        self.counting.add_done_callback(lambda done: done.cancelled() or done.exception())


class PreviewPanel:
    debounce = 0.35  # seconds of quiet typing before a preview is asked for
    # Seconds the exact preview has before an estimate is shown in its place: a small shop's exact
    # figures come sooner and are shown without one; a million customers' take about half a second.
    estimate_after = 0.1
    connect_timeout = 30.0  # seconds a page's first preview waits for the browser to connect

    def __init__(
        self,
        *,
        group_id: int | None,
        wording: Wording,
        get_rule: Callable[[], dict],
        get_benefits: Callable[[], Awaitable[EffectiveBenefits]] | None = None,
        group_name: str = "",
    ) -> None:
        self.group_id = group_id
        self.wording = wording
        self.get_rule = get_rule
        self.get_benefits = get_benefits
        self.group_name = group_name
        self.generation = 0  # the newest request; answers for older ones are dropped
        self.rule: RuleGroup | None = None
        self.preview: RulePreview | None = None  # the last figures shown
        with ui.card().classes("w-full gap-2") as self.card:
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Preview").classes("text-base font-medium")
                self.spinner = ui.spinner(size="sm")
                self.spinner.visible = False
            # While a condition is incomplete the last figures stay, dimmed, under this note.
            with ui.row().classes("items-center gap-2 text-sm text-amber-900 no-wrap") as self.stale_note:
                ui.icon("edit_note", size="sm")
                self.stale_text = ui.label().mark("preview-incomplete")
            self.stale_note.visible = False
            self.body = ui.column().classes("w-full gap-3 transition-opacity").mark("preview-body")

    async def open(self, first: FirstCount | None = None, *, within: float = FIRST_WITHIN) -> None:
        """The page's first preview (`first`, when the page asked for it ahead). When it is ready within
        `within` seconds it is drawn into the page itself, so the browser shows the count without a
        round trip over its websocket; otherwise (a big shop) the page is served with the spinner and
        the figures follow once the browser is connected. The funnel and the cost always follow then."""
        self.generation += 1
        first = first or FirstCount(rule=self.get_rule(), group_id=self.group_id)
        if first.rule is None or first.counting is None:
            self._show_incomplete(first.errors)
            return
        rule, counting = first.rule, first.counting
        done, _ = await asyncio.wait({counting}, timeout=within)
        if done and not counting.exception():
            self.rule, self.preview = rule, counting.result()
            self._show(self.preview)
        else:
            self.spinner.visible = True
        background_tasks.create(self._follow(self.generation, rule, counting), name="rule preview")

    async def _follow(self, generation: int, rule: RuleGroup, counting: asyncio.Future) -> None:
        try:
            await self.card.client.connected(timeout=self.connect_timeout)
        except ClientConnectionTimeout:
            return  # nobody looks; the count, if still running, finishes unseen
        if self.card.client.is_deleted or generation != self.generation:
            return
        self.spinner.visible = True
        try:
            await self._estimate_while(generation, rule, counting)
            preview = await counting
            if generation != self.generation:
                return
            if self.preview is not preview:
                self.rule, self.preview = rule, preview
                self._show(preview)
            await self._finish(generation, rule, preview)
        finally:
            if generation == self.generation:
                self.spinner.visible = False

    def request(self) -> None:
        """Ask for a fresh preview of the builder's rule, once typing settles."""
        self.generation += 1
        background_tasks.create(self._run(self.generation), name="rule preview")

    async def _run(self, generation: int) -> None:
        await asyncio.sleep(self.debounce)
        if generation != self.generation:
            return
        try:
            rule = parse_rule(self.get_rule())
        except RuleError as error:
            self._show_incomplete(error.errors)
            return
        self.spinner.visible = True
        try:
            counting = asyncio.ensure_future(preview_rule(rule=rule, group_id=self.group_id))
            await self._estimate_while(generation, rule, counting)
            preview = await counting
            if generation != self.generation:
                return
            self.rule, self.preview = rule, preview
            self._show(preview)
            await self._finish(generation, rule, preview)
        finally:
            if generation == self.generation:
                self.spinner.visible = False

    async def _estimate_while(self, generation: int, rule: RuleGroup, counting: asyncio.Future) -> None:
        """When the exact preview is not ready within `estimate_after` seconds, an estimate in its place
        until it is (it replaces the estimate in _show; the estimate is never kept)."""
        done, _ = await asyncio.wait({counting}, timeout=self.estimate_after)
        if done:
            return
        estimate = await estimate_rule(rule=rule, group_id=self.group_id)
        if generation == self.generation and not counting.done():
            self.rule, self.preview = rule, estimate
            self._show(estimate)

    async def _finish(self, generation: int, rule: RuleGroup, preview: RulePreview) -> None:
        """The funnel and the cost, which take longer than the count and follow it."""
        funnel, impact = await asyncio.gather(
            rule_funnel(rule=rule, matching=preview.matching),
            self._impact(rule, arriving(preview)) if self.get_benefits else _nothing(),
        )
        if generation != self.generation:
            return
        self._show_funnel(funnel, preview.total_customers)
        self._show_impact(impact, preview.ladder)

    async def _impact(self, rule: RuleGroup, joiners: int) -> RuleImpact:
        assert self.get_benefits is not None
        benefits = await self.get_benefits()
        return await rule_impact(rule=rule, group_id=self.group_id, benefits=benefits, joiners=joiners)

    def _show_incomplete(self, errors: dict[str, str]) -> None:
        n = len(errors)
        what = f"{n} condition{'s' if n != 1 else ''} need{'s' if n == 1 else ''} attention" if n else "the rule"
        if self.preview is None:
            self.body.clear()
            with self.body:
                with ui.row().classes("items-center gap-2 text-slate-600 no-wrap").mark("preview-incomplete"):
                    ui.icon("edit_note", size="md").classes("text-slate-400")
                    ui.label(f"Complete the rule to see who it matches: {what}." if n else "Complete the rule.")
            return
        # The last complete rule's figures stay in view, dimmed, so the count never blanks. Nothing is
        # being counted for it any more: an answer still on its way is for an older request.
        self.stale_text.text = f"Showing the last complete rule: {what} (marked in red)."
        self.stale_note.visible = True
        self.body.classes(add="opacity-40")
        self.spinner.visible = False
        if self.counting_note is not None:
            self.counting_note.visible = False

    def _show(self, preview: RulePreview) -> None:
        self.counting_note = None  # cleared with the body below
        self.stale_note.visible = False
        self.body.classes(remove="opacity-40")
        self.body.clear()
        with self.body:
            if preview.estimated:
                self._show_estimate(preview)
                return
            with ui.column().classes("gap-0"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(f"{preview.matching:,}").classes("text-3xl font-semibold text-primary").mark(
                        "preview-count"
                    )
                    ui.label("matching customer" + ("" if preview.matching == 1 else "s")).classes("text-slate-600")
                ui.label(
                    f"{preview.matching:,} of {preview.total_customers:,} customers ({preview.share:.1%})"
                ).classes("text-sm text-slate-500").mark("preview-share")
            self.funnel_box = ui.column().classes("w-full gap-1")
            if self._funnel_drawn is not None:
                self._draw_funnel(*self._funnel_drawn, dimmed=True)
            if preview.ladder is not None:
                self._show_moves(preview.ladder)
            elif preview.change is not None:
                self._show_change(preview)
            self.impact_box = ui.column().classes("w-full gap-1")
            if preview.samples:
                self._show_samples(preview.samples)
                ui.button(
                    "View Matching Customers", icon="list", on_click=lambda: self._open_matches(preview.matching)
                ).props("outline no-caps").mark("view-matches")
            else:
                ui.label("No customer matches this rule yet.").classes("text-slate-500 italic")

    _funnel_drawn: tuple[list[FunnelStep], int, RuleGroup] | None = None
    counting_note: ui.row | None = None  # "Counting…" beside an estimate

    def _show_estimate(self, preview: RulePreview) -> None:
        """A big shop's first figures, counted on a sample: worded as estimates ("about 230,000"),
        with a note that the exact count is on its way; no names until it comes."""
        sampled = count(preview.sampled or 0, "customer")
        with ui.column().classes("gap-0").mark("preview-estimate"):
            with ui.row().classes("items-baseline gap-2"):
                ui.label(about(preview.matching)).classes("text-3xl font-semibold text-slate-600").mark("preview-count")
                ui.label("matching customers").classes("text-slate-600")
            ui.label(f"About {preview.share:.0%} of {preview.total_customers:,} customers").classes(
                "text-sm text-slate-500"
            ).mark("preview-share")
            with ui.row().classes("items-center gap-1 text-xs text-slate-500 no-wrap") as self.counting_note:
                ui.spinner(size="xs")
                ui.label(f"Counting… (an estimate from {sampled} until the exact figures are ready)")
        self.funnel_box = ui.column().classes("w-full gap-1")
        if self._funnel_drawn is not None:
            self._draw_funnel(*self._funnel_drawn, dimmed=True)
        change = preview.change
        if change is not None:
            with ui.row().classes("gap-4 text-slate-600"):
                ui.label(_estimated(change.joining, "would join")).mark("preview-joining")
                ui.label(_estimated(change.leaving, "would leave")).mark("preview-leaving")
        self.impact_box = ui.column().classes("w-full gap-1")

    def _show_change(self, preview: RulePreview) -> None:
        change = preview.change
        with ui.row().classes("gap-4"):
            ui.label(f"+{change.joining:,} would join" if change.joining else "No one would join").classes(
                "text-positive font-medium" if change.joining else "text-slate-500"
            ).mark("preview-joining")
            ui.label(f"−{change.leaving:,} would leave" if change.leaving else "No one would leave").classes(
                "text-negative font-medium" if change.leaving else "text-slate-500"
            ).mark("preview-leaving")
        for label, samples in (("Joining", change.joining_samples), ("Leaving", change.leaving_samples)):
            _names(label, samples)

    def _show_moves(self, rung: RungPreview) -> None:
        """A rung's change as its ladder carries it out: moves between rungs, onto and off the ladder,
        each customer counted once (joins and leaves would count a move twice, on two rungs)."""
        moves = rung.moves
        outcome = rung.run.rung(moves.group_id)
        with ui.row().classes("items-start gap-2 text-sm text-slate-700 no-wrap").mark("preview-rung-note"):
            ui.icon("stairs", size="xs").classes("text-primary mt-0.5")
            place = f"Rung {outcome.position} of {len(rung.run.rungs)}" if outcome else "A rung"
            ui.label(
                f"{place} of {rung.ladder_name}: each customer sits on one rung only, the highest whose rule "
                "they match."
            )
        moved = bool(moves.arriving or moves.leaving)
        ui.label(moves.words()).classes("font-medium text-slate-900" if moved else "text-slate-500").mark(
            "preview-moves"
        )
        for shift in (
            *moves.up_from,
            *moves.down_from,
            moves.new,
            *moves.up_to,
            *moves.down_to,
            moves.off,
            *moves.only_on,
        ):
            if shift is not None:
                here = shift.to_group_id == moves.group_id
                _names(
                    _way(shift.direction, shift.from_name, shift.to_name, arriving=here),
                    shift.sample,
                    more=shift.customers,
                )
        if outcome is not None:
            ui.label(f"{outcome.name} would have {count(outcome.members, 'member')}.").classes(
                "text-sm text-slate-600"
            ).mark("preview-rung-members")

    def _show_samples(self, samples: list[MatchRow]) -> None:
        ui.label("First matches, with the values the rule reads").classes("text-sm font-medium text-slate-700")
        with ui.column().classes("w-full gap-1").mark("preview-samples"):
            for sample in samples:
                with ui.row().classes("w-full items-baseline gap-x-3 gap-y-0 text-sm border-b border-slate-100 pb-1"):
                    ui.link(sample.name, f"/customers/{sample.customer_id}").classes("font-medium text-primary w-44")
                    for text in value_texts(sample.check, self.wording)[:SHOWN_VALUES]:
                        ui.label(text).classes("text-slate-600")

    def _show_funnel(self, steps: list[FunnelStep], total: int) -> None:
        assert self.rule is not None
        self._funnel_drawn = (steps, total, self.rule)
        self.funnel_box.clear()
        self._draw_funnel(steps, total, self.rule)

    def _draw_funnel(self, steps: list[FunnelStep], total: int, rule: RuleGroup, *, dimmed: bool = False) -> None:
        """A bar per condition, as long as the customers left after it (ALL) or gathered by it (ANY),
        against the whole shop: the drop is seen before it is read."""
        if not steps:
            return
        narrowing = rule.match == "all"
        with self.funnel_box:
            title = "After each condition" if narrowing else "Gathered by each condition"
            ui.label(title).classes("text-sm font-medium text-slate-700")
            rows = [
                ("All customers", total, None),
                *[(_item_text(s.condition, self.wording), s.customers, s) for s in steps],
            ]
            with ui.column().classes("w-full gap-1" + (" opacity-40" if dimmed else "")).mark("preview-funnel"):
                previous = total
                for index, (text, customers, _step) in enumerate(rows):
                    share = customers / total if total else 0
                    with ui.column().classes("w-full gap-0").mark(f"funnel-step-{index}"):
                        with ui.row().classes("w-full justify-between text-xs text-slate-700 no-wrap gap-2"):
                            ui.label(text).classes("truncate").tooltip(text)
                            with ui.row().classes("gap-1 no-wrap items-baseline"):
                                ui.label(f"{customers:,}").classes("font-semibold text-slate-900")
                                dropped = previous - customers
                                if index and narrowing and dropped > 0:
                                    ui.label(f"−{dropped:,}").classes("text-red-700")
                        with ui.element("div").classes("w-full rounded-sm").style(TRACK):
                            colour = "#94a3b8" if index == 0 else "var(--q-primary)"
                            width = max(share * 100, 0.5 if customers else 0)
                            ui.element("div").classes("rounded-sm").style(
                                f"height: 12px; width: {width:.2f}%; background: {colour}"
                            )
                    previous = customers

    def _show_impact(self, impact: RuleImpact | None, rung: RungPreview | None = None) -> None:
        self.impact_box.clear()
        if impact is None or not (impact.joiners or impact.moves):
            return
        joiners = "joiner" + ("" if impact.joiners == 1 else "s")
        collisions = impact.collisions  # for a rung, groups other than its ladder's rungs
        if rung is not None:
            joiners = f"customer{'' if impact.joiners == 1 else 's'} arriving"
        with self.impact_box:
            with ui.column().classes("w-full gap-0").mark("preview-cost"):
                if rung is not None and impact.prices:
                    self._show_rung_cost(impact)
                elif not impact.prices:
                    ui.label("No discount to pay: this group gives no special prices.").classes(
                        "text-sm text-slate-600"
                    )
                elif impact.yearly_cost_cents is None:
                    ui.label(f"Discount for the {impact.joiners:,} {joiners}: not estimated").classes(
                        "text-sm font-medium text-slate-800"
                    )
                    ui.label(impact.cost_note.capitalize() + ".").classes("text-xs text-slate-500")
                else:
                    with ui.row().classes("items-baseline gap-1 text-sm"):
                        ui.label("About").classes("text-slate-700")
                        ui.label(
                            money(impact.yearly_cost_cents, currency=self.wording.currency, cents_shown="never")
                        ).classes("font-semibold text-slate-900")
                        ui.label(f"a year in discounts for the {impact.joiners:,} {joiners}").classes("text-slate-700")
                    ui.label(
                        f"Reckoned on {money(impact.purchases_cents, currency=self.wording.currency, cents_shown='never')}: "
                        f"{impact.cost_note}."
                    ).classes("text-xs text-slate-500")
            if collisions:
                with ui.column().classes("w-full gap-0").mark("preview-collisions"):
                    for collision in collisions:
                        with ui.row().classes("items-center gap-1 text-sm text-amber-900 no-wrap"):
                            ui.icon("call_split", size="xs")
                            ui.label(
                                f"{collision.customers:,} of the {joiners} "
                                f"{'is' if collision.customers == 1 else 'are'} in {collision.group_name}"
                            )
                    ui.label("Where two groups price a product, the customer gets the better price.").classes(
                        "text-xs text-slate-500"
                    )

    def _show_rung_cost(self, impact: RuleImpact) -> None:
        """What a rung's moves change in discounts a year: a move up from a rung that gave 5% to one
        giving 10% costs the difference; a move down or off the ladder saves."""
        if impact.yearly_cost_cents is None:
            ui.label("Change in discounts: not estimated").classes("text-sm font-medium text-slate-800")
            ui.label(f"{impact.moves_words()}; {impact.cost_note}.").classes("text-xs text-slate-500")
            return
        if not impact.moves:
            ui.label("No change in discounts: the customers moving pay the same prices on either rung.").classes(
                "text-sm text-slate-600"
            )
            return
        cents = impact.yearly_cost_cents
        with ui.row().classes("items-baseline gap-1 text-sm"):
            ui.label("About").classes("text-slate-700")
            ui.label(money(abs(cents), currency=self.wording.currency, cents_shown="never")).classes(
                "font-semibold text-slate-900"
            )
            ui.label(f"{'less' if cents < 0 else 'more'} a year: {impact.moves_words()}.").classes("text-slate-700")
        spent = money(impact.purchases_cents, currency=self.wording.currency, cents_shown="never")
        ui.label(f"Reckoned on {spent}: {impact.cost_note}.").classes("text-xs text-slate-500")

    def _open_matches(self, matching: int) -> None:
        rule = self.rule
        if rule is None:
            return
        with ui.dialog() as dialog, ui.card().classes("w-[56rem] max-w-full"):
            with ui.row().classes("w-full items-center justify-between"):
                dialog_title(dialog, f"Matching customers ({matching:,})")
                ui.button(icon="close", on_click=dialog.close).props('flat round dense aria-label="Close"')
            columns = [
                {"name": "name", "label": "Customer", "field": "name", "align": "left"},
                {"name": "email", "label": "Email", "field": "email", "align": "left"},
                {"name": "values", "label": "What the rule reads", "field": "values", "align": "left"},
            ]

            async def fetch(page: int, per_page: int) -> Page[MatchRow]:
                return await list_matches(rule=rule, page=page, per_page=per_page)

            table = PagedTable(
                columns=columns,
                fetch=fetch,
                row_key="customer_id",
                to_row=lambda row: {
                    "customer_id": row.customer_id,
                    "name": row.name,
                    "email": row.email,
                    "values": " · ".join(value_texts(row.check, self.wording)),
                },
            )
            table.table.mark("matches-table")
        dialog.on("hide", dialog.delete)  # a new dialog each time: closed ones would stay in the page's memory
        dialog.open()
        background_tasks.create(table.load(page=1), name="matching customers")

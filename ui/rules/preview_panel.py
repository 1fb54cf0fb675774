"""The live preview beside the rule builder: matching customers, who would join or leave, a funnel.

The owner types faster than a preview over a big shop answers, so requests wait a moment for the
typing to settle, and an answer that arrives after a newer request was made is dropped: a stale
count never overwrites a fresh one.
"""

import asyncio
from collections.abc import Callable

from nicegui import background_tasks, ui

from services.paging import Page
from services.rules.explainer import ConditionCheck, GroupCheck
from services.rules.model import Condition, RuleError, RuleGroup, parse_rule
from services.rules.preview import FunnelStep, MatchRow, RulePreview, list_matches, preview_rule, rule_funnel
from services.rules.words import Wording, actual_text, condition_text
from ui.paged_table import PagedTable

SHOWN_VALUES = 3  # values per sample customer, so a row fits a laptop screen


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


class PreviewPanel:
    debounce = 0.35  # seconds of quiet typing before a preview is asked for

    def __init__(self, *, group_id: int | None, wording: Wording, get_rule: Callable[[], dict]) -> None:
        self.group_id = group_id
        self.wording = wording
        self.get_rule = get_rule
        self.generation = 0  # the newest request; answers for older ones are dropped
        self.rule: RuleGroup | None = None
        with ui.card().classes("w-full gap-2") as self.card:
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Preview").classes("text-base font-medium")
                self.spinner = ui.spinner(size="sm")
                self.spinner.visible = False
            self.body = ui.column().classes("w-full gap-3")

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
            preview = await preview_rule(rule=rule, group_id=self.group_id)
            if generation != self.generation:
                return
            self.rule = rule
            self._show(preview)
            funnel = await rule_funnel(rule=rule) if len(rule.conditions) > 1 else []
            if generation != self.generation:
                return
            self._show_funnel(funnel, preview.total_customers)
        finally:
            if generation == self.generation:
                self.spinner.visible = False

    def _show_incomplete(self, errors: dict[str, str]) -> None:
        self.body.clear()
        with self.body:
            with ui.row().classes("items-center gap-2 text-slate-600").mark("preview-incomplete"):
                ui.icon("edit_note", size="md").classes("text-slate-400")
                n = len(errors)
                ui.label(
                    "Complete the rule to see who it matches"
                    + (f": {n} condition{'s' if n != 1 else ''} need{'s' if n == 1 else ''} attention." if n else ".")
                )

    def _show(self, preview: RulePreview) -> None:
        self.body.clear()
        with self.body:
            with ui.column().classes("gap-0"):
                with ui.row().classes("items-baseline gap-2"):
                    ui.label(f"{preview.matching:,}").classes("text-3xl font-semibold text-primary").mark(
                        "preview-count"
                    )
                    ui.label("matching customer" + ("" if preview.matching == 1 else "s")).classes("text-slate-600")
                ui.label(
                    f"{preview.matching:,} of {preview.total_customers:,} customers ({preview.share:.1%})"
                ).classes("text-sm text-slate-500").mark("preview-share")
            if preview.change is not None:
                self._show_change(preview)
            if preview.samples:
                self._show_samples(preview.samples)
                ui.button(
                    "View Matching Customers", icon="list", on_click=lambda: self._open_matches(preview.matching)
                ).props("outline no-caps").mark("view-matches")
            else:
                ui.label("No customer matches this rule yet.").classes("text-slate-500 italic")
            self.funnel_box = ui.column().classes("w-full gap-1")

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
            if samples:
                with ui.row().classes("gap-1 items-center text-sm text-slate-600"):
                    ui.label(f"{label}:")
                    for i, sample in enumerate(samples):
                        ui.link(sample.name, f"/customers/{sample.customer_id}").classes("text-primary")
                        if i + 1 < len(samples):
                            ui.label("·")

    def _show_samples(self, samples: list[MatchRow]) -> None:
        ui.label("First matches, with the values the rule reads").classes("text-sm font-medium text-slate-700")
        with ui.column().classes("w-full gap-1").mark("preview-samples"):
            for sample in samples:
                with ui.row().classes("w-full items-baseline gap-x-3 gap-y-0 text-sm border-b border-slate-100 pb-1"):
                    ui.link(sample.name, f"/customers/{sample.customer_id}").classes("font-medium text-primary w-44")
                    for text in value_texts(sample.check, self.wording)[:SHOWN_VALUES]:
                        ui.label(text).classes("text-slate-600")

    def _show_funnel(self, steps: list[FunnelStep], total: int) -> None:
        if not steps:
            return
        with self.funnel_box:
            title = "After each condition" if self.rule and self.rule.match == "all" else "Gathered by each condition"
            ui.label(title).classes("text-sm font-medium text-slate-700 mt-2")
            with ui.column().classes("w-full gap-1").mark("preview-funnel"):
                for step in steps:
                    share = step.customers / total if total else 0
                    with ui.column().classes("w-full gap-0"):
                        with ui.row().classes("w-full justify-between text-xs text-slate-600 no-wrap"):
                            ui.label(_item_text(step.condition, self.wording)).classes("truncate")
                            ui.label(f"{step.customers:,}").classes("font-medium")
                        ui.linear_progress(value=share, show_value=False, size="6px").props("rounded color=secondary")

    def _open_matches(self, matching: int) -> None:
        rule = self.rule
        if rule is None:
            return
        with ui.dialog() as dialog, ui.card().classes("w-[56rem] max-w-full"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label(f"Matching customers ({matching:,})").classes("text-lg font-medium")
                ui.button(icon="close", on_click=dialog.close).props("flat round dense")
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

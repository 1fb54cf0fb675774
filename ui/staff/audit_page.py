"""Audit log: who changed what and when, filtered by subject, person, text and dates; each entry
opens to show only the fields that changed, before and after. The shop's owner reads it."""

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from services.paging import Page
from services.staff.actor import Permission
from services.staff.audit import SUBJECT_TYPES, AuditRow, audit_people, list_audit
from services.wording import date_time
from ui.format import relative_time, typed_day
from ui.shell import empty_state, frame, no_results, page_heading
from ui.staff.permissions import can
from ui.staff.session import current_actor

PER_PAGE = 25


def field_label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def value_text(value: Any) -> str:
    """A stored value as the owner reads it: always plain text, never markup."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value) or "(none)"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class AuditLog:
    """The filters and the page of entries they select."""

    def __init__(self) -> None:
        self.subject_type: str | None = None
        self.person: str | None = None
        self.search = ""
        self.since: str | None = None
        self.until: str | None = None
        self.page = 1
        self.result: Page[AuditRow] | None = None
        self.clear_filters: Callable[[], None] | None = None  # set by the page, which holds the filters

    async def load(self) -> None:
        self.result = await list_audit(
            actor=current_actor(),
            subject_type=self.subject_type,
            actor_name=self.person,
            search=self.search or "",
            since=typed_day(self.since),
            until=typed_day(self.until),
            page=self.page,
            per_page=PER_PAGE,
        )

    async def show(self, *, page: int = 1) -> None:
        self.page = page
        await self.load()
        self.render.refresh()

    @ui.refreshable_method
    def render(self) -> None:
        result = self.result
        filtered = any((self.subject_type, self.person, self.search, self.since, self.until))
        if result is not None and not result.rows and filtered and self.clear_filters:
            no_results("No changes match these filters.", on_clear=self.clear_filters, mark="audit")
            return
        if result is None or not result.rows:
            empty_state(
                "history",
                "No changes to show",
                "Changes to groups, rules, benefits, promotions, settings and staff appear here.",
            ).mark("audit-empty")
            return
        ui.label(f"{result.total:,} changes").classes("text-sm text-slate-500").mark("audit-total")
        with ui.card().classes("w-full p-0 gap-0").mark("audit-table"):
            with ui.row().classes("w-full px-4 py-2 text-xs uppercase tracking-wider text-slate-500 no-wrap"):
                ui.label("When").classes("w-44")
                ui.label("Who").classes("w-40")
                ui.label("What")
            for row in result.rows:
                ui.separator()
                self._entry(row)
        if result.pages > 1:
            with ui.row().classes("w-full justify-center"):
                pages = ui.pagination(1, result.pages, direction_links=True, value=result.page).mark("audit-pages")
                pages.on_value_change(lambda event: self.show(page=event.value))

    def _entry(self, row: AuditRow) -> None:
        # Named by its header's text (Quasar's own name is a bare "Expand" for every entry).
        with ui.expansion().classes("w-full").props('dense toggle-aria-label=""').mark(f"audit-{row.id}") as expansion:
            with expansion.add_slot("header"), ui.row().classes("w-full items-center no-wrap py-1"):
                with ui.column().classes("w-44 gap-0"):
                    ui.label(date_time(row.at))
                    ui.label(relative_time(row.at)).classes("text-xs text-slate-500")
                ui.label(row.actor_name).classes("w-40").mark("audit-who")
                ui.label(row.summary).classes("font-medium").mark("audit-what")
            changes = row.changes
            if not changes:
                ui.label("No field changed.").classes("text-slate-500 px-4 pb-3")
                return
            with ui.grid(columns="12rem 1fr 1fr").classes("w-full px-4 pb-3 gap-x-4 gap-y-1 text-sm"):
                for heading in ("Field", "Before", "After"):
                    ui.label(heading).classes("text-xs uppercase tracking-wider text-slate-500")
                for change in changes:
                    ui.label(field_label(change.field)).classes("text-slate-600")
                    ui.label(value_text(change.before)).classes("break-all text-red-800").mark("audit-before")
                    ui.label(value_text(change.after)).classes("break-all text-green-800").mark("audit-after")


async def audit_page() -> None:
    async with frame("Audit log", section="audit"):
        page_heading("Audit log", "Who changed what, and when, with the values before and after.")
        if not can(Permission.MANAGE_STAFF):
            empty_state("lock", "Only the shop's owner reads the audit log", "Ask the owner what changed.").mark(
                "owner-only"
            )
            return
        log = AuditLog()
        people = await audit_people(actor=current_actor())

        with ui.row().classes("w-full items-end gap-3"):
            subject = ui.select({None: "Everything", **SUBJECT_TYPES}, value=None, label="What changed")
            subject.props("outlined dense").classes("w-44").mark("filter-subject")
            person = ui.select({None: "Everyone", **{name: name for name in people}}, value=None, label="Who")
            person.props("outlined dense").classes("w-48").mark("filter-person")
            search = ui.input("Search", placeholder="Name or action").props("outlined dense clearable debounce=300")
            search.classes("w-56").mark("filter-search")
            since = ui.input("From").props("outlined dense type=date").classes("w-40").mark("filter-since")
            until = ui.input("To").props("outlined dense type=date").classes("w-40").mark("filter-until")

        async def apply() -> None:
            log.subject_type, log.person, log.search = subject.value, person.value, search.value or ""
            log.since, log.until = since.value or None, until.value or None
            await log.show(page=1)

        def clear_filters() -> None:
            subject.value, person.value, search.value, since.value, until.value = None, None, "", "", ""

        log.clear_filters = clear_filters
        for element in (subject, person, search, since, until):
            element.on_value_change(apply)
        await log.load()
        log.render()

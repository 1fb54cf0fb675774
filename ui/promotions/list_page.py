"""Promotions: one tab per state (Active, Scheduled, Expired, Draft) with its count, a row per
promotion (name, target groups, type, what it gives, dates, status), and "New Promotion"."""

from nicegui import ui

from services.promotions import SHOWN_LABELS, TYPE_LABELS, PromotionRow, list_promotions, validity_text
from services.staff.actor import Permission
from ui.shell import empty_state, frame, page_heading
from ui.staff.permissions import guard

ROW_GRID = "grid grid-cols-[minmax(0,1.3fr)_minmax(0,1.1fr)_140px_minmax(0,1.6fr)_minmax(0,1fr)_90px] gap-3 w-full"
# White text on each of these has at least 4.5:1 contrast (Quasar's info, grey-6 and orange-8 had 1.9-2.7).
STATUS_COLORS = {"active": "positive", "scheduled": "blue-9", "expired": "grey-8", "draft": "deep-orange-10"}
EMPTY_TABS = {
    "active": (
        "play_circle",
        "No promotions running today",
        "An active promotion shows here on the days it is valid. Create one, or set a draft to Active.",
    ),
    "scheduled": (
        "event",
        "Nothing scheduled",
        "Active promotions whose first day is still ahead show here until they start.",
    ),
    "expired": ("history", "No expired promotions", "Promotions whose last day has passed show here."),
    "draft": (
        "edit_note",
        "No drafts",
        "A promotion saved as Draft reaches no one; it waits here until you set it to Active.",
    ),
}


def status_badge(shown: str) -> ui.badge:
    return ui.badge(SHOWN_LABELS[shown], color=STATUS_COLORS[shown]).props("rounded").classes("px-2")


def new_promotion_button(target: str = "/promotions/new") -> ui.button:
    button = ui.button("New Promotion", icon="add", on_click=lambda: ui.navigate.to(target)).mark("new-promotion")
    guard(button, Permission.MANAGE_PROMOTIONS)
    return button


def _row(row: PromotionRow) -> None:
    with (
        ui.element("div").classes(f"{ROW_GRID} items-center py-2 border-b border-slate-100").mark(f"promotion-{row.id}")
    ):
        ui.link(row.name, f"/promotions/{row.id}").classes("font-medium text-primary no-underline hover:underline")
        if row.targets:
            ui.label(", ".join(row.targets)).classes("text-slate-700")
        else:
            ui.label("No target group").classes("text-slate-400 italic")
        ui.label(TYPE_LABELS[row.type]).classes("text-slate-700")
        ui.label(row.summary).classes("text-slate-600 text-sm")
        ui.label(validity_text(row.valid_from, row.valid_to)).classes("text-slate-700 text-sm")
        with ui.element("div"):
            status_badge(row.shown)


async def promotions_page(shown: str = "active") -> None:
    if shown not in SHOWN_LABELS:
        shown = "active"
    everything = await list_promotions()

    @ui.refreshable
    async def listing(tab: str) -> None:
        found = await list_promotions(shown=tab)
        if not found.rows:
            icon, title, text = EMPTY_TABS[tab]
            empty_state(icon, title, text).mark(f"empty-{tab}")
            return
        with ui.element("div").classes(f"{ROW_GRID} text-xs uppercase tracking-wide text-slate-500 pb-1"):
            for heading in ("Promotion", "Target groups", "Type", "Gives", "Valid", "Status"):
                ui.label(heading)
        with ui.column().classes("w-full gap-0").mark("promotion-rows"):
            for row in found.rows:
                _row(row)

    async with frame("Promotions", section="promotions"):
        with ui.row().classes("w-full items-center justify-between"):
            page_heading(
                "Promotions",
                "Target discounts, free shipping and other promotions at your groups, "
                "and see who they reach and what they cost.",
            )
            new_promotion_button()
        with ui.card().classes("w-full gap-2"):
            if not sum(everything.counts.values()):
                empty_state(
                    "local_offer",
                    "No promotions yet",
                    "Create a promotion for one or more groups: an additional discount, free shipping, "
                    "a free item or buy-one-get-one.",
                ).mark("no-promotions")
                with ui.row().classes("w-full justify-center pb-8"):
                    new_promotion_button()
                return
            with ui.tabs(value=shown).props("align=left no-caps").classes("w-full text-slate-700") as tabs:
                for key, label in SHOWN_LABELS.items():
                    ui.tab(key, label=f"{label} ({everything.counts[key]})").mark(f"tab-{key}")
            tabs.mark("promotion-tabs")
            ui.separator()
            await listing(shown)

            async def switch(event) -> None:
                ui.navigate.history.replace(f"/promotions?shown={event.value}")
                await listing.refresh(event.value)

            tabs.on_value_change(switch)

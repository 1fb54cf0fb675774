"""The group page's card of the promotions that target the group, and of the active ones that
reach its members because they target a parent group."""

from datetime import UTC, datetime

from nicegui import ui

from services.groups.group import GroupDetail
from services.promotions import (
    TYPE_LABELS,
    ApplicablePromotion,
    applicable_promotions,
    promotions_for_group,
    validity_text,
)
from ui.promotions.list_page import status_badge


async def promotions_card(group: GroupDetail) -> None:
    # On a phone (max-md) a promotion's row wraps: its name, then what it gives, then its dates and status.
    rows = await promotions_for_group(group_id=group.id)
    direct = {row.id for row in rows}
    today = datetime.now(UTC).date()
    inherited = [p for p in await applicable_promotions(group_ids=[group.id], on=today) if p.id not in direct]
    with ui.card().classes("w-full gap-2").mark("group-promotions"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Promotions").classes("text-base font-medium")
            if rows:
                ui.link("New promotion for this group", f"/promotions/new?group={group.id}").classes(
                    "text-sm text-primary"
                )
        if not rows:
            with ui.row().classes("items-center gap-1 text-slate-500").mark("no-group-promotions"):
                ui.label(f"No promotion targets {group.name} {'directly' if inherited else 'yet'}.")
                ui.link("Create a promotion", f"/promotions/new?group={group.id}").classes("text-primary").mark(
                    "create-group-promotion"
                )
        if group.children and rows:
            ui.label(
                f"Members of its subgroups ({', '.join(group.children)}) are reached too, "
                "unless a promotion leaves subgroups out."
            ).classes("text-xs text-slate-500")
        with ui.column().classes("w-full gap-0"):
            for row in rows:
                with (
                    ui.row()
                    .classes(
                        "w-full items-center gap-3 py-2 border-b border-slate-100 no-wrap max-md:flex-wrap max-md:gap-y-1"
                    )
                    .mark(f"group-promotion-{row.id}")
                ):
                    ui.link(row.name, f"/promotions/{row.id}").classes(
                        "font-medium text-primary no-underline hover:underline w-48 shrink-0 max-md:w-full"
                    )
                    ui.label(row.summary).classes("text-sm text-slate-600 flex-1 min-w-0 max-md:basis-full")
                    ui.label(validity_text(row.valid_from, row.valid_to)).classes(
                        "text-sm text-slate-700 w-52 max-md:w-auto"
                    )
                    status_badge(row.shown)
        if inherited:
            _inherited(inherited, group)


def _inherited(promotions: list[ApplicablePromotion], group: GroupDetail) -> None:
    ui.label(f"Also reaching its members, as {group.name} is a subgroup of a target").classes(
        "text-xs uppercase tracking-wide text-slate-500 mt-2"
    )
    with ui.column().classes("w-full gap-0").mark("inherited-promotions"):
        for promotion in promotions:
            with ui.row().classes(
                "w-full items-center gap-3 py-2 border-b border-slate-100 no-wrap max-md:flex-wrap max-md:gap-y-1"
            ):
                ui.link(promotion.name, f"/promotions/{promotion.id}").classes(
                    "font-medium text-primary no-underline hover:underline w-48 shrink-0 max-md:w-full"
                )
                gives = f"{promotion.percent:g}% additional" if promotion.percent else TYPE_LABELS[promotion.type]
                ui.label(gives).classes("text-sm text-slate-600 flex-1 min-w-0 max-md:basis-full")
                ui.label(promotion.validity).classes("text-sm text-slate-700 w-52 max-md:w-auto")
                ui.label("valid today" if promotion.valid_on_date else "not valid today").classes(
                    "text-xs text-slate-500 w-24 text-right"
                )

"""Sections whose features arrive with later releases: a clear empty state, never an error."""

from nicegui import ui

from ui.shell import empty_state, frame, page_heading

SECTIONS = {
    "promotions": (
        "Promotions",
        "local_offer",
        "Target discounts, free shipping and other promotions at your groups, and see who they reach "
        "and what they cost before you switch them on.",
    ),
    "reports": (
        "Reports",
        "insights",
        "See revenue, orders and retention per group, compare groups side by side, and export to CSV.",
    ),
    "settings": (
        "Settings",
        "settings",
        "Shop-wide choices such as one group per customer, staff accounts and backups.",
    ),
}


def coming_soon_page(section: str):
    title, icon, text = SECTIONS[section]

    async def page() -> None:
        async with frame(title, section=section):
            page_heading(title)
            with ui.card().classes("w-full"):
                empty_state(icon, f"{title} arrive with a later release", text).mark("coming-soon")

    return page

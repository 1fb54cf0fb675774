"""Sections whose features arrive with later releases: a clear empty state, never an error."""

from nicegui import ui

from ui.shell import empty_state, frame, page_heading

# Every section has its own page now; a section added to the navigation before its page lists
# itself here: key -> (title, icon, what it will do).
SECTIONS: dict[str, tuple[str, str, str]] = {}


def coming_soon_page(section: str):
    title, icon, text = SECTIONS[section]

    async def page() -> None:
        async with frame(title, section=section):
            page_heading(title)
            with ui.card().classes("w-full"):
                empty_state(icon, f"{title} arrive with a later release", text).mark("coming-soon")

    return page

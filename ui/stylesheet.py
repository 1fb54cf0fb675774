"""The pages' Tailwind classes, built ahead of time into ui/styles/tailwind.css (`make css`).

NiceGUI can instead ship Tailwind's browser build, which compiles the classes in every tab on every
page load; on a busy laptop that costs tens of milliseconds a page, so the app runs with
`tailwind=False` and serves this stylesheet instead.
"""

from pathlib import Path

from nicegui import ui

STYLESHEET = Path(__file__).parent / "styles" / "tailwind.css"


def add_stylesheet() -> None:
    """Every page gets the stylesheet inline in its head, so it needs no request of its own."""
    ui.add_css(STYLESHEET.read_text(encoding="utf-8"), shared=True)

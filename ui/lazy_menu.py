"""A button's menu whose entries are built when it is first opened.

NiceGUI's cost of a page is per element, and a menu's entries are elements on every page that has
it, though most visits never open it. So the button's first click builds them and opens the menu;
from then on the button opens and closes it as any menu's."""

from collections.abc import Callable

from nicegui import ui


def lazy_menu(button: ui.button, entries: Callable[[], None]) -> ui.menu:
    """A menu under `button`; `entries` draws its content (in the menu) on the first click."""
    with button:
        menu = ui.menu().props("no-parent-event")

    def first_open() -> None:
        if menu.default_slot.children:
            return
        with menu:
            entries()
        menu.props(remove="no-parent-event")
        menu.open()

    button.on_click(first_open)
    return menu

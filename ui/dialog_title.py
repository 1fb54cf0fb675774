"""A dialog's title that is also its accessible name."""

from nicegui import ui


def dialog_title(dialog: ui.dialog, text: str) -> ui.label:
    """The dialog's visible title, named as its label: a screen reader announces it when the dialog
    opens (without it, only "dialog")."""
    title = ui.label(text).classes("text-lg font-medium")
    dialog.props(f"aria-labelledby={title.html_id}")
    return title

"""A table column whose header shows no text: its cells are buttons that say what they do, or the
names of the rows."""

from html import escape

from nicegui import ui


def hide_header(table: ui.table, column: str, words: str) -> None:
    """Give `column`'s header `words` for screen readers only. They announce them with each cell of
    the column; an empty header (axe's empty-table-header) leaves its cells without one."""
    table.add_slot(f"header-cell-{column}", f'<q-th :props="props"><span class="sr-only">{escape(words)}</span></q-th>')

"""Ticked rows of a server-side paged table that last across pages and searches, and "Select all N
matching" for everything the current search finds, not only the page in view."""

from collections.abc import Callable

from nicegui import ui

from services.customers import CustomerFilter
from services.wording import count
from ui.paged_table import PagedTable


class Selection:
    """What the owner picked in `rows`: ticked rows (kept by the table across pages), or every
    match of the current search: then the action gets the list's filter (`matching`), and the
    database works through the matches itself (services.membership.matching)."""

    def __init__(
        self,
        rows: PagedTable,
        *,
        noun: tuple[str, str],
        marker: str,
        matching: Callable[[], CustomerFilter],
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.rows = rows
        self.noun = noun
        self.marker = marker  # prefix of the bar's test markers: two selections may share a page
        self._matching = matching
        self._on_change = on_change
        self.all_matching = False
        rows.table.on_select(self._ticked)
        # The caller renders self.bar() where it belongs (usually above the table).

    @property
    def count(self) -> int:
        return self.rows.total if self.all_matching else len(self.rows.table.selected)

    def names(self) -> list[str]:
        """The ticked rows' names (for "all matching": none; the count says it)."""
        return [] if self.all_matching else [row["name"] for row in self.rows.table.selected]

    def chosen(self) -> list[int] | CustomerFilter:
        """For services.membership.matching: the ticked ids, or the filter all of whose matches are meant."""
        if self.all_matching:
            return self._matching()
        return list(dict.fromkeys(row[self.rows.table.row_key] for row in self.rows.table.selected))

    def clear(self) -> None:
        self.all_matching = False
        self.rows.table.selected = []
        self.rows.table.update()
        self._changed()

    def search_changed(self) -> None:
        """A new search: "all matching" meant the old one, so it ends; ticked rows stay ticked."""
        if self.all_matching:
            self.all_matching = False
            self.rows.table.selected = []
        self._changed()

    def _select_all(self) -> None:
        self.all_matching = True
        self.rows.table.selected = list(self.rows.table.rows)
        self.rows.table.update()
        self._changed()

    def _ticked(self) -> None:
        self.all_matching = False  # unticking one row of "all" leaves just the visible ticks
        self._changed()

    def _changed(self) -> None:
        self.bar.refresh()
        if self._on_change:
            self._on_change()

    @ui.refreshable_method
    def bar(self) -> None:
        singular, plural = self.noun
        with ui.row().classes("items-center gap-2 min-h-9"):
            text = f"Selected: {count(self.count, singular, plural)}"
            if self.all_matching:
                text += " (all that match)"
            ui.label(text).classes("font-medium text-slate-700").mark(f"{self.marker}-selected-count")
            if self.rows.total > len(self.rows.table.rows) and not self.all_matching:
                ui.button(
                    f"Select all {count(self.rows.total, singular, plural)} matching", on_click=self._select_all
                ).props("flat dense no-caps color=primary").mark(f"{self.marker}-select-all")
            if self.count:
                ui.button("De-select All", on_click=self.clear).props("flat dense no-caps color=grey-8").mark(
                    f"{self.marker}-deselect-all"
                )


class Chosen:
    """Customers picked without a table (a customer's own page): what the remove dialog asks of a
    Selection, for a fixed list."""

    def __init__(self, people: dict[int, str]) -> None:
        self._people = people

    @property
    def count(self) -> int:
        return len(self._people)

    def names(self) -> list[str]:
        return list(self._people.values())

    def chosen(self) -> list[int]:
        return list(self._people)

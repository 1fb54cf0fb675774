"""A table whose rows are fetched one page at a time from a service (server-side paging)."""

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from services.paging import Page

Fetch = Callable[[int, int], Awaitable[Page[Any]]]

HEADER_CHECKBOX = """
<q-checkbox v-model="props.selected" :dense="props.dense" aria-label="Select all on this page" />
"""
ROW_CHECKBOX = """
<q-checkbox v-model="props.selected" :dense="props.dense" :aria-label="'Select ' + (props.row.name ?? props.key)" />
"""


class PagedTable:
    """Only the visible page lives in the browser; Quasar asks for another via its `request` event."""

    def __init__(
        self,
        *,
        columns: list[dict],
        fetch: Fetch,
        to_row: Callable[[Any], dict],
        row_key: str,
        per_page: int = 25,
        no_data: str = "Nothing to show.",
        selection: str | None = None,
    ) -> None:
        self._fetch = fetch
        self._to_row = to_row
        self.table = ui.table(
            columns=columns,
            rows=[],
            row_key=row_key,
            selection=selection,
            pagination={"page": 1, "rowsPerPage": per_page, "rowsNumber": 0},
        ).classes("w-full")
        self.table.props('flat bordered :rows-per-page-options="[10, 25, 50, 100]"')
        self.table.props["no-data-label"] = no_data
        if selection:
            self.table.props("hide-selected-banner")  # the page says what is selected, in its own words
            # Quasar's own selection checkboxes have no name: a screen reader says "checkbox", not whose.
            self.table.add_slot("header-selection", HEADER_CHECKBOX)
            self.table.add_slot("body-selection", ROW_CHECKBOX)
        self.table.on("request", self._on_request)
        self.total = 0

    async def _on_request(self, event: Any) -> None:
        pagination = event.args["pagination"]
        await self.load(page=pagination["page"], per_page=pagination["rowsPerPage"])

    async def load(self, *, page: int = 1, per_page: int | None = None) -> None:
        per_page = per_page or self.table.pagination["rowsPerPage"]
        self.show(await self._fetch(page, per_page), page=page, per_page=per_page)

    def show(self, result: Page[Any], *, page: int = 1, per_page: int | None = None) -> None:
        """Show a page fetched beforehand. Fetched before the table is built, the table and its rows
        reach the browser in one update, which draws it once instead of empty and then filled."""
        per_page = per_page or self.table.pagination["rowsPerPage"]
        self.total = result.total
        self.table.rows = [self._to_row(row) for row in result.rows]
        self.table.pagination = {
            **self.table.pagination,
            "page": page,
            "rowsPerPage": per_page,
            "rowsNumber": result.total,
        }
        self.table.update()

"""A table whose rows are fetched one page at a time from a service (server-side paging)."""

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from services.paging import Page, Seek

Fetch = Callable[..., Awaitable[Page[Any]]]  # (page, per_page), and the Seek when `seeks`

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
        seeks: bool = False,
    ) -> None:
        """`seeks`: the list is sorted by name and `fetch` takes a Seek (services.paging), so the
        next and previous pages are read from the rows shown rather than counted off from the start."""
        self._fetch = fetch
        self._seeks = seeks
        self._shown: Page[Any] | None = None
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
        page, per_page = pagination["page"], pagination["rowsPerPage"]
        await self.load(page=page, per_page=per_page, seek=self._seek(page, per_page))

    def _seek(self, page: int, per_page: int) -> Seek | None:
        shown = self._shown
        if not self._seeks or shown is None or shown.per_page != per_page:
            return None
        if page == shown.page + 1 and shown.last is not None:
            return Seek(after=shown.last)
        if page == shown.page - 1 and shown.first is not None:
            return Seek(before=shown.first)
        return None

    async def load(self, *, page: int = 1, per_page: int | None = None, seek: Seek | None = None) -> None:
        per_page = per_page or self.table.pagination["rowsPerPage"]
        result = await (self._fetch(page, per_page, seek) if self._seeks else self._fetch(page, per_page))
        self.show(result, page=page, per_page=per_page)

    def show(self, result: Page[Any], *, page: int = 1, per_page: int | None = None) -> None:
        """Show a page fetched beforehand. Fetched before the table is built, the table and its rows
        reach the browser in one update, which draws it once instead of empty and then filled."""
        per_page = per_page or self.table.pagination["rowsPerPage"]
        self._shown = result
        self.total = result.total
        self.table.rows = [self._to_row(row) for row in result.rows]
        self.table.pagination = {
            **self.table.pagination,
            "page": page,
            "rowsPerPage": per_page,
            "rowsNumber": result.total,
        }
        self.table.update()

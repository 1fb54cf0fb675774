from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

NameKey = tuple[str, int]  # (name, id): where a row stands in a list sorted by name, ties by id


@dataclass(frozen=True)
class Seek:
    """Where the page wanted starts or ends, from the page shown beside it: `after` the last row of
    the page before it, or `before` the first row of the page after it. A list sorted by name then
    reads its page from an index from that point on, however deep the page is, instead of counting
    off every row before it."""

    after: NameKey | None = None
    before: NameKey | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: its rows and how many rows the whole list has. `first` and `last`:
    the sort keys of its first and last rows, for a Seek to the pages beside it (lists sorted by name)."""

    rows: list[T]
    total: int
    page: int
    per_page: int
    first: NameKey | None = None
    last: NameKey | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_bounds(page: int, per_page: int) -> tuple[int, int]:
    """Offset and limit for a 1-based page; out-of-range input is clamped rather than refused."""
    per_page = min(max(per_page, 1), 200)
    page = max(page, 1)
    return (page - 1) * per_page, per_page


@dataclass(frozen=True)
class NameOrder:
    """How to read one page of a list sorted by (name, id) in SQL: the ORDER BY, the keyset condition
    and the OFFSET, and whether the rows read come back reversed (read from the list's end)."""

    order_by: str
    condition: str  # "" or a condition on (name, id), with placeholders for `params`
    params: tuple
    offset: int
    limit: int
    reversed: bool

    def statement(self, select: str, where: str, params: list) -> tuple[str, list]:
        """`select ... WHERE where` read as this page: the keyset condition added, ordered, bounded."""
        if self.condition:
            where, params = f"{where} AND {self.condition}", [*params, *self.params]
        tail = f"ORDER BY {self.order_by} LIMIT {int(self.limit)} OFFSET {int(self.offset)}"
        return f"{select} WHERE {where} {tail}", params

    def in_order(self, rows: list) -> list:
        """The rows read, in the list's order (a page read from the end comes back reversed)."""
        return rows[::-1] if self.reversed else rows


def name_order(*, name: str, id: str, page: int, per_page: int, total: int | None, seek: Seek | None) -> NameOrder:
    """The page's place in the list, in the cheapest terms an index on (name, id) serves: a keyset
    seek from the page beside it; else an offset from the nearer end of the list (the last page is
    the first rows read backwards; `total`: the list's length, when known exactly)."""
    offset, limit = page_bounds(page, per_page)
    forward, backward = f"{name}, {id}", f"{name} DESC, {id} DESC"
    if seek is not None and seek.after is not None:
        return NameOrder(forward, f"({name}, {id}) > (?, ?)", seek.after, 0, limit, False)
    if seek is not None and seek.before is not None:
        return NameOrder(backward, f"({name}, {id}) < (?, ?)", seek.before, 0, limit, True)
    if total is not None and offset < total and offset > total - offset - limit:
        from_end = total - offset - limit
        if from_end < 0:  # a last page that is not full
            limit += from_end
            from_end = 0
        return NameOrder(backward, "", (), from_end, limit, True)
    return NameOrder(forward, "", (), offset, limit, False)

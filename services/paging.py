from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: its rows and how many rows the whole list has."""

    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_bounds(page: int, per_page: int) -> tuple[int, int]:
    """Offset and limit for a 1-based page; out-of-range input is clamped rather than refused."""
    per_page = min(max(per_page, 1), 200)
    page = max(page, 1)
    return (page - 1) * per_page, per_page

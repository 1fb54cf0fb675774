"""Lists by name read from indexes (issue 21): a group's members and the customer list come page by
page in exactly the order the old ORDER BY name, id gave, whether a page is read by its number,
from the page before or after it, or from the list's end, and whichever way a group is read (its
customers walked by name, or its members sorted)."""

from datetime import UTC, datetime

import pytest

from models.customer import Customer, CustomerStatus
from models.group import CustomerGroup, GroupType, Membership, MembershipSource
from services.customers import CustomerFilter, list_customers, search_filter, walk_names
from services.membership.members import list_members
from services.paging import Page, Seek

# Few names for many customers: pages end inside runs of equal names, which only the id orders.
NAMES = ["Ada Stone", "ada stone", "Bo Lee", "Bo Lee", "Bo Lee", "Cy 100% Ltd", "Di_an", "Zed"]
PER_PAGE = 7


@pytest.fixture
async def shop(db):
    now = datetime.now(UTC)
    customers = [
        await Customer.create(
            name=NAMES[(i * 5) % len(NAMES)],
            company="Acme" if i % 9 == 0 else "",
            email=f"c{i}@example.com",
            created_at=now,
            status=CustomerStatus.BLOCKED if i == 3 else CustomerStatus.ACTIVE,
        )
        for i in range(60)
    ]
    groups = {}
    for code, members in (("BIG", customers[:45]), ("SMALL", customers[50:54]), ("EMPTY", [])):
        group = await CustomerGroup.create(
            name=code.title(), name_key=code.lower(), code=code, type=GroupType.MANUAL, member_count=len(members)
        )
        await Membership.bulk_create(
            [Membership(customer=c, group=group, source=MembershipSource.MANUAL, since=now) for c in members]
        )
        groups[code] = group.id
    return groups


async def _expected_members(group_id: int, search: str = "") -> list[int]:
    query = Membership.filter(group_id=group_id)
    if search:
        query = query.filter(search_filter(search, prefix="customer__"))
    return list(await query.order_by("customer__name", "customer_id").values_list("customer_id", flat=True))


async def _expected_customers(chosen: CustomerFilter) -> list[int]:
    query = Customer.all()
    if chosen.search:
        query = query.filter(search_filter(chosen.search))
    if chosen.group_id is not None:
        query = query.filter(memberships__group_id=chosen.group_id)
    if chosen.not_in_group_id is not None:
        inside = await Membership.filter(group_id=chosen.not_in_group_id).values_list("customer_id", flat=True)
        query = query.exclude(id__in=list(inside))
    return list(await query.order_by("name", "id").values_list("id", flat=True))


def _ids(page: Page) -> list[int]:
    return [getattr(row, "customer_id", None) or row.id for row in page.rows]


async def _every_way(fetch, expected: list[int]) -> None:
    """The list read four ways equals `expected`: by page number, forwards from page to page,
    backwards from the last page, and the last page by its number."""
    pages = max(1, -(-len(expected) // PER_PAGE))
    by_number = [await fetch(page=p, seek=None) for p in range(1, pages + 2)]
    assert [i for page in by_number for i in _ids(page)] == expected
    assert {page.total for page in by_number} == {len(expected)}

    forwards, page = [], by_number[0]
    forwards += _ids(page)
    for number in range(2, pages + 1):
        page = await fetch(page=number, seek=Seek(after=page.last))
        forwards += _ids(page)
    assert forwards == expected

    backwards, page = [], by_number[pages - 1]
    backwards = _ids(page) + backwards
    for number in range(pages - 1, 0, -1):
        page = await fetch(page=number, seek=Seek(before=page.first))
        backwards = _ids(page) + backwards
    assert backwards == expected


@pytest.mark.parametrize("code", ["BIG", "SMALL", "EMPTY"])
@pytest.mark.parametrize("search", ["", "bo lee", "acme", "100%", "di_", "nobody"])
async def test_a_groups_members_come_in_name_order_every_way_they_are_paged(shop, code, search):
    group_id = shop[code]

    async def fetch(page, seek):
        return await list_members(group_id=group_id, search=search, page=page, per_page=PER_PAGE, seek=seek)

    await _every_way(fetch, await _expected_members(group_id, search))


@pytest.mark.parametrize(
    "chosen",
    [
        CustomerFilter(),
        CustomerFilter(search="ada"),
        CustomerFilter(search="100%"),
        CustomerFilter(group_id=0),
        CustomerFilter(group_id=1, search="bo"),
        CustomerFilter(not_in_group_id=0),
        CustomerFilter(not_in_group_id=1, search="Acme"),
    ],
    ids=["all", "search", "search-percent", "in-big", "in-small-search", "not-in-big", "not-in-small-search"],
)
async def test_the_customer_list_comes_in_name_order_every_way_it_is_paged(shop, chosen):
    codes = ["BIG", "SMALL"]
    if chosen.group_id is not None:
        chosen = CustomerFilter(search=chosen.search, group_id=shop[codes[chosen.group_id]])
    if chosen.not_in_group_id is not None:
        chosen = CustomerFilter(search=chosen.search, not_in_group_id=shop[codes[chosen.not_in_group_id]])

    async def fetch(page, seek):
        return await list_customers(
            search=chosen.search,
            group_id=chosen.group_id,
            not_in_group_id=chosen.not_in_group_id,
            page=page,
            per_page=PER_PAGE,
            seek=seek,
        )

    await _every_way(fetch, await _expected_customers(chosen))


async def test_a_page_of_members_shows_their_membership(shop):
    page = await list_members(group_id=shop["SMALL"], per_page=2)
    assert page.total == 4 and len(page.rows) == 2
    assert all(row.source == MembershipSource.MANUAL and row.is_primary is False for row in page.rows)
    assert all(row.since.tzinfo is not None for row in page.rows)


def test_a_big_group_is_walked_by_name_and_a_small_one_sorted():
    assert walk_names(members=500_000, customers=1_000_000, rows=25)
    assert walk_names(members=500_000, customers=1_000_000, rows=300_000) is False  # deep, by its number
    assert walk_names(members=4, customers=1_000_000, rows=25) is False

"""Group overlaps: the member-count matrix and customers whose groups give conflicting benefits."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from models.catalog import VisibilityGroup
from models.customer import Customer
from models.group import CustomerGroup, GroupStatus
from services.benefits.overlaps import conflicts, overlap_matrix
from services.benefits.sections import save_benefits
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")


@dataclass
class Shop:
    vip: int
    wholesale: int
    retail: int
    customers: dict[str, int]


async def _customer(name: str, *groups: int) -> int:
    customer = await Customer.create(
        name=name, email=f"{name.lower()}@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    for group in groups:  # the first group is the primary one
        await add_members(group_id=group, customer_ids=[customer.id], mode=AddMode.ADD, actor=ACTOR)
    return customer.id


@pytest.fixture
async def shop(db) -> Shop:
    exclusive = await VisibilityGroup.create(name="VIP Exclusive Products")
    vip = (await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=ACTOR)).id
    wholesale = (await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=ACTOR)).id
    retail = (await create_group(data={"name": "Retail", "code": "RETAIL"}, actor=ACTOR)).id
    await save_benefits(
        group_id=vip,
        sections={
            "pricing": {"type": "percentage", "percent": 15},
            "visibility": {"mode": "groups", "visibility_group_ids": [exclusive.id]},
            "payment": {"net_days": 30, "credit_limit_cents": 10_000_000},
        },
        actor=ACTOR,
    )
    await save_benefits(
        group_id=wholesale,
        sections={"pricing": {"type": "fixed", "fixed_cents": 500}, "payment": {"net_days": 15}},
        actor=ACTOR,
    )
    customers = {
        "Ann": await _customer("Ann", vip, wholesale),
        "Bob": await _customer("Bob", wholesale, vip, retail),
        "Cid": await _customer("Cid", vip),
        "Dee": await _customer("Dee", retail, wholesale),
        "Eve": await _customer("Eve", retail),
    }
    return Shop(vip, wholesale, retail, customers)


async def test_the_matrix_counts_the_customers_each_pair_of_groups_shares(shop: Shop):
    matrix = await overlap_matrix()
    names = [g.name for g in matrix.groups]
    assert names == ["Retail", "VIP Customers", "Wholesale"]
    # By hand: Retail {Bob, Dee, Eve}, VIP {Ann, Bob, Cid}, Wholesale {Ann, Bob, Dee}.
    assert matrix.counts == [
        [3, 1, 2],
        [1, 3, 2],
        [2, 2, 3],
    ]
    assert matrix.overlapping_pairs == 3


async def test_a_customer_in_two_groups_with_different_net_terms_is_listed_with_what_applies(shop: Shop):
    result = await conflicts(page=1, per_page=25)
    # Dee is in Retail (no net terms) and Wholesale (Net 15): her terms conflict too. Eve and Cid
    # are in one group each.
    assert [row.name for row in result.rows] == ["Ann", "Bob", "Dee"]
    assert result.total == 3
    ann = result.rows[0]
    assert [(g.name, g.is_primary) for g in ann.groups] == [("VIP Customers", True), ("Wholesale", False)]
    kinds = {c.kind: c for c in ann.conflicts}
    assert set(kinds) == {"payment", "pricing", "visibility"}
    assert kinds["payment"].what == (
        "Payment terms differ: VIP Customers Net 30, $100,000 credit limit; Wholesale Net 15, no credit limit"
    )
    assert kinds["payment"].gets == "Net 30, $100,000 credit limit, from VIP Customers (primary group)"
    assert kinds["pricing"].what == (
        "Pricing differs: VIP Customers 15% discount on all products; Wholesale $5 off each unit on all products"
    )
    assert "lowest" in kinds["pricing"].gets
    assert kinds["visibility"].gets == "Everything any of the groups sees: standard products + VIP Exclusive Products"
    dee = result.rows[2]
    # Retail gives no special pricing: no pricing conflict, Wholesale's price simply applies.
    assert [c.kind for c in dee.conflicts] == ["payment"]
    assert dee.conflicts[0].gets == "Pay on order (no net terms), no credit limit, from Retail (primary group)"


async def test_conflicts_are_paged_and_inactive_groups_do_not_count(shop: Shop):
    second = await conflicts(page=2, per_page=2)
    assert ([row.name for row in second.rows], second.total, second.pages) == (["Dee"], 3, 2)
    await CustomerGroup.filter(id=shop.wholesale).update(status=GroupStatus.INACTIVE)
    result = await conflicts(page=1, per_page=25)
    # Bob is left in VIP and Retail, which differ; his primary group was Wholesale.
    assert [row.name for row in result.rows] == ["Bob"]
    bob = result.rows[0]
    assert [(g.name, g.is_primary) for g in bob.groups] == [("Retail", False), ("VIP Customers", False)]
    payment = next(c for c in bob.conflicts if c.kind == "payment")
    assert payment.gets.startswith("No active primary group: the shop's default terms apply")


async def test_no_conflicts_when_the_groups_agree(db):
    a = (await create_group(data={"name": "A", "code": "A"}, actor=ACTOR)).id
    b = (await create_group(data={"name": "B", "code": "B"}, actor=ACTOR)).id
    await _customer("Fay", a, b)
    result = await conflicts(page=1, per_page=25)
    assert (result.rows, result.total) == ([], 0)
    assert (await overlap_matrix()).counts == [[1, 1], [1, 1]]

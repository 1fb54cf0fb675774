"""The demo shop a new installation starts with."""

from datetime import UTC, datetime

from models.customer import Customer, CustomerTag, PaymentRating
from models.group import CustomerGroup, Membership, MembershipEvent, MembershipSource
from services.database import close_database, open_database
from services.demo import NAMED_CUSTOMERS, seed_demo_shop, seed_if_empty
from services.shop import get_shop

SEED_003_GROUPS = {
    "VIP Customers": 45,
    "Gold Tier": 89,
    "Silver Tier": 156,
    "Wholesale": 234,
    "Retail": 567,
    "New Customers": 78,
}


async def _snapshot() -> list[tuple]:
    customers = await Customer.all().order_by("id").values_list("name", "email", "lifetime_cents", "order_count")
    tags = await CustomerTag.all().order_by("customer__email", "tag").values_list("customer__email", "tag")
    return [customers, tags]


async def test_the_demo_shop_is_shaped_like_seed_003(db):
    assert await seed_if_empty(customers=1200, seed=1) is True
    assert await seed_if_empty(customers=1200, seed=1) is False, "a shop with data is never seeded again"

    sizes = {g.name: await Membership.filter(group_id=g.id).count() for g in await CustomerGroup.all()}
    assert sizes == SEED_003_GROUPS
    assert await Customer.all().count() == 1200
    assert (await CustomerGroup.get(code="VIP")).name == "VIP Customers"
    assert [g.name for g in await CustomerGroup.filter(is_default=True)] == ["Retail"]
    names = set(await Customer.all().values_list("name", flat=True))
    assert {name for name, *_ in NAMED_CUSTOMERS} <= names
    assert (await get_shop()).name == "Northwind Supply Co."
    assert await MembershipEvent.all().count() == await Membership.all().count()


async def test_vip_members_are_the_rule_matches_plus_manual_ones(demo_db):
    vip = await CustomerGroup.get(code="VIP")
    now = datetime.now(UTC)
    for membership in await Membership.filter(group_id=vip.id).select_related("customer"):
        customer = membership.customer
        matches = (
            customer.lifetime_cents > 5_000_000
            and (now - customer.created_at).days > 366
            and customer.payment_rating == PaymentRating.EXCELLENT
        )
        assert matches == (membership.source != MembershipSource.MANUAL), customer.name


async def test_the_same_seed_builds_the_same_shop(tmp_path):
    today = datetime(2026, 6, 1, tzinfo=UTC)
    shops = []
    for name in ("a", "b"):
        await open_database(database_url=f"sqlite://{tmp_path / name}.sqlite3")
        await seed_demo_shop(customers=60, seed=5, today=today)
        shops.append(await _snapshot())
        await close_database()
    assert shops[0] == shops[1]
    assert len(shops[0][0]) == 60 and shops[0][1], "customers and their tags"


async def test_reopening_a_database_keeps_its_data(demo_db):
    customers = await Customer.all().count()
    await close_database()
    await open_database(database_url=demo_db)
    assert await Customer.all().count() == customers

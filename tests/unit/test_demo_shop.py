"""The demo shop a new installation starts with."""

from datetime import UTC, date, datetime, timedelta

from models.catalog import PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer, CustomerTag, Order, PaymentRating
from models.group import CustomerGroup, Membership, MembershipAction, MembershipEvent, MembershipSource
from services.benefits.pricing import CartLine, customer_benefits, quote
from services.benefits.sections import effective_benefits
from services.catalog import count_visibility, list_visibility_groups
from services.demo.data import NAMED_CUSTOMERS
from services.demo.seeding import seed_demo_shop, seed_if_empty
from services.promotions import list_promotions
from services.shop import get_shop
from services.storage.database import close_database, open_database

SEED_003_GROUPS = {
    "VIP Customers": 45,
    "Gold Tier": 89,
    "Silver Tier": 156,
    "Wholesale": 234,
    "Retail": 567,
    "New Customers": 78,
    "VIP Platinum": 4,  # the top VIP customers, who stay in VIP too
    "Tiered Customers": 0,  # the ladder of Gold, Silver and Bronze
    "Bronze Tier": 198,  # Retail customers whose purchases fall in its band
}


async def _snapshot() -> list[tuple]:
    customers = await Customer.all().order_by("id").values_list("name", "email", "lifetime_cents", "order_count")
    tags = await CustomerTag.all().order_by("customer__email", "tag").values_list("customer__email", "tag")
    products = (
        await Product.all().order_by("sku").values_list("sku", "name", "visibility_group__name", "base_price_cents")
    )
    prices = await PriceListItem.all().order_by("id").values_list("price_list__name", "product__sku", "min_quantity")
    return [customers, tags, products, prices]


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
    assert await MembershipEvent.filter(action=MembershipAction.JOINED).count() == await Membership.all().count()
    # Each Platinum member was made primary there: one more event each.
    assert await MembershipEvent.filter(action=MembershipAction.MADE_PRIMARY).count() == 4
    assert {g.name: g.member_count for g in await CustomerGroup.all()} == SEED_003_GROUPS


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


async def test_the_same_seed_builds_the_same_shop(new_database):
    today = datetime(2026, 6, 1, tzinfo=UTC)
    shops = []
    for name in ("a", "b"):
        await open_database(database_url=new_database(name))
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


async def test_vip_platinum_inherits_vips_benefits_and_adds_its_own(demo_db):
    """The inheritance example (docs/concepts.md), as the demo shop sets it up."""
    platinum = await CustomerGroup.get(code="VIP-PLATINUM").select_related("parent")
    assert (platinum.name, platinum.parent.name) == ("VIP Platinum", "VIP Customers")
    benefits = await effective_benefits(group_id=platinum.id)
    percent = benefits.pricing["percent"]
    assert (percent.value, percent.note) == (20, "15% from VIP Customers + 5% here")
    assert benefits.payment["credit_limit_cents"].value == 25_000_000
    assert benefits.payment["net_days"].value == 45
    assert benefits.payment["early_discount_percent"].source_text(for_group_id=platinum.id) == (
        "inherited from VIP Customers"
    )
    vip = await effective_benefits(group_id=platinum.parent_id)
    assert (vip.value("pricing", "percent"), vip.value("payment", "credit_limit_cents")) == (15, 10_000_000)
    assert vip.value("payment", "auto_approve_under_cents") == 1_000_000
    assert vip.value("portal", "quote_requests") is True


async def test_acme_is_in_vip_and_vip_platinum_and_pays_20_percent_less(demo_db):
    acme = await Customer.get(name="Acme Corporation")
    groups = (
        await Membership.filter(customer_id=acme.id).order_by("group__name").values_list("group__name", "is_primary")
    )
    assert groups == [("VIP Customers", False), ("VIP Platinum", True)]
    standard = await Product.filter(visibility_group__is_standard=True).order_by("sku").first()
    line = (await quote(customer_id=acme.id, lines=[CartLine(standard.id, 1)])).lines[0]
    assert line.winner.source == "VIP Platinum: 20% discount"
    assert line.unit_cents == round(standard.base_price_cents * 0.8)
    terms = await customer_benefits(customer_id=acme.id)
    assert terms.primary_group == "VIP Platinum"
    assert set(terms.visibility_group_names) == {"VIP Exclusive Products", "Early Access Products"}


async def test_the_catalog_has_200_products_in_four_visibility_groups(demo_db):
    assert await Product.all().count() == 200
    groups = {row.name: (row.products, row.is_standard) for row in await list_visibility_groups()}
    assert groups == {
        "Standard Products": (125, True),
        "VIP Exclusive Products": (45, False),
        "Early Access Products": (10, False),
        "Wholesale Only": (20, False),
    }
    ids = {name: id for id, name in await VisibilityGroup.all().values_list("id", "name")}
    vip = await count_visibility(
        visibility_group_ids=[ids["Standard Products"], ids["VIP Exclusive Products"], ids["Early Access Products"]],
        product_ids=[],
        all_products=False,
    )
    assert (vip.visible, vip.hidden, vip.exclusive) == (180, 20, 55)


async def test_wholesale_buys_from_its_price_list_with_quantity_breaks(demo_db):
    wholesale = await PriceList.get(name="Wholesale Price List")
    assert await PriceList.filter(name="VIP Price List").exists()
    tiers = await PriceListItem.filter(price_list_id=wholesale.id).distinct().values_list("min_quantity", flat=True)
    assert sorted(set(tiers)) == [1, 10, 100]
    group = await CustomerGroup.get(code="WHOLESALE")
    benefits = await effective_benefits(group_id=group.id)
    assert benefits.value("pricing", "price_list_id") == wholesale.id
    assert benefits.value("pricing", "min_order_cents") == 50_000
    assert (benefits.value("payment", "net_days"), benefits.value("payment", "require_po")) == (30, True)
    for code, percent in (("GOLD", 10), ("SILVER", 5)):
        tier = await CustomerGroup.get(code=code)
        assert (await effective_benefits(group_id=tier.id)).value("pricing", "percent") == percent


async def test_the_demo_shop_has_the_vip_spring_sale_a_promotion_running_now_and_a_draft(new_database):
    today = datetime(2026, 6, 10, 15, tzinfo=UTC)
    await open_database(database_url=new_database("shop"))
    try:
        await seed_demo_shop(customers=60, seed=5, today=today)
        tabs = await list_promotions(today=today.date())
        assert [(row.name, row.shown, row.targets) for row in tabs.rows] == [
            ("Silver Coffee Bonus", "draft", ("Silver Tier",)),
            ("Wholesale Free Shipping", "active", ("Wholesale",)),
            ("VIP Spring Sale", "expired", ("Gold Tier", "VIP Customers")),
        ]
        spring = next(row for row in tabs.rows if row.name == "VIP Spring Sale")
        assert (spring.valid_from, spring.valid_to) == (date(2026, 3, 1), date(2026, 3, 31))
        assert spring.summary == "10% additional · minimum $500 · stacks with group discounts"
        shipping = next(row for row in tabs.rows if row.name == "Wholesale Free Shipping")
        assert (shipping.valid_from, shipping.valid_to) == (date(2026, 5, 26), date(2026, 6, 24))
        assert shipping.summary == "Free shipping · minimum $1,000"
        assert tabs.counts == {"active": 1, "scheduled": 0, "expired": 1, "draft": 1}
    finally:
        await close_database()


async def test_nothing_in_the_demo_shop_is_dated_after_the_moment_it_was_seeded(new_database):
    """Seeded at 01:43, the shop has no order "placed" at 04:13 the same day (issue 19, item 9)."""
    seeded_at = datetime(2026, 6, 1, 1, 43, tzinfo=UTC)
    await open_database(database_url=new_database("early"))
    try:
        await seed_demo_shop(customers=300, seed=7, today=seeded_at)
        last_order = await Order.all().order_by("-placed_at").first()
        assert last_order.placed_at <= seeded_at
        assert seeded_at - last_order.placed_at < timedelta(days=3), "the shop still has recent orders"
        last_orders = await Customer.filter(last_order_at__not_isnull=True).values_list("last_order_at", flat=True)
        assert max(last_orders) <= seeded_at
        assert max(await Customer.all().values_list("created_at", flat=True)) <= seeded_at
        assert max(await Membership.all().values_list("since", flat=True)) <= seeded_at
        assert max(await MembershipEvent.all().values_list("at", flat=True)) <= seeded_at
    finally:
        await close_database()

    # Seeded now, the same holds for the real clock.
    before = datetime.now(UTC)
    await open_database(database_url=new_database("now"))
    try:
        await seed_demo_shop(customers=60, seed=7)
        assert (await Order.all().order_by("-placed_at").first()).placed_at <= before + timedelta(seconds=1)
    finally:
        await close_database()

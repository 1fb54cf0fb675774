"""Importing orders from the shop's CSV exports (Shopify, WooCommerce, a plain file), on a real database."""

from datetime import UTC, datetime

import pytest

from models.customer import Customer, Order, OrderLine, OrderStatus
from models.group import Membership
from models.shop import Shop
from services.customers import create_customer
from services.groups.group import create_group
from services.imports.files import ImportKind, layout_of, read_csv, suggest_mapping
from services.imports.orders import check_orders, import_orders
from services.orders.statuses import status_for
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem sku,Billing Name,Cancelled at,Refunded Amount"
)
SHOPIFY = [
    "#1001,ada@example.com,paid,2025-03-01 10:00:00 +0100,USD,300.00,300.00,2025-03-01 10:00:00 +0100,"
    "2,Coffee Beans 1kg,100.00,COF-1,Ada Lovelace,,",
    "#1001,,,,,,,,1,Grinder,100.00,GRI-1,,,",
    "#1002,ada@example.com,refunded,,USD,50.00,50.00,2025-03-05 09:00:00 +0000,1,Mug,50.00,MUG-1,Ada Lovelace,,50.00",
    "#1003,ben@example.com,partially_refunded,,USD,120.00,120.00,2025-04-01 12:30:00 -0500,"
    "3,Tea,40.00,TEA-1,Ben Brooks,,20.00",
    "#1004,ben@example.com,paid,,USD,80.00,80.00,2025-04-02 08:00:00 +0000,1,Kettle,80.00,KET-1,Ben Brooks,"
    "2025-04-03 10:00:00 +0000,",
]


def _csv(rows: list[str], header: str = SHOPIFY_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


async def _file(data: bytes):
    file = await read_csv(data=data)
    return file, suggest_mapping(headers=file.headers, kind=ImportKind.ORDERS)


async def _import(data: bytes, **options):
    file, mapping = await _file(data)
    return await import_orders(file=file, mapping=mapping, actor=ACTOR, **options)


async def _stats(email: str) -> tuple:
    return await Customer.get(email=email).values_list(
        "lifetime_cents", "order_count", "average_order_cents", "first_order_at", "last_order_at"
    )


@pytest.fixture
async def shop(db) -> dict[str, int]:
    await Shop.create(name="Test shop")
    ids = {}
    for email, name in (("ada@example.com", "Ada Lovelace"), ("ben@example.com", "Ben Brooks")):
        ids[email] = (await create_customer(data={"email": email, "name": name}, actor=ACTOR)).id
    return ids


def test_each_shops_status_words_mean_one_of_ours():
    assert [status_for(word) for word in ("paid", "partially_refunded", "refunded", "authorized", "voided")] == [
        OrderStatus.COMPLETED,
        OrderStatus.COMPLETED,
        OrderStatus.REFUNDED,
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
    ]
    assert [status_for(word) for word in ("Processing", "wc-on-hold", "Pending payment", "failed", "Cancelled")] == [
        OrderStatus.COMPLETED,
        OrderStatus.PENDING,
        OrderStatus.PENDING,
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
    ]
    assert status_for("") == OrderStatus.COMPLETED
    assert status_for("shipped to the moon") is None


def test_shopify_and_woocommerce_exports_are_recognised_from_their_header():
    shopify = SHOPIFY_HEADER.split(",")
    assert layout_of(headers=shopify, kind=ImportKind.ORDERS).name == "Shopify orders export"
    mapping = suggest_mapping(headers=shopify, kind=ImportKind.ORDERS)
    assert (mapping["number"], mapping["total"], mapping["placed_at"], mapping["status"]) == (
        "Name",
        "Total",
        "Created at",
        "Financial Status",
    )
    assert (mapping["line_price"], mapping["customer_name"]) == ("Lineitem price", "Billing Name")

    woo = ["Order ID", "Order Date", "Order Status", "Billing Email", "Order Total", "SKU", "Item Name", "Quantity"]
    assert layout_of(headers=woo, kind=ImportKind.ORDERS).name == "WooCommerce orders export"
    mapping = suggest_mapping(headers=woo, kind=ImportKind.ORDERS)
    assert (mapping["number"], mapping["email"], mapping["total"], mapping["line_sku"]) == (
        "Order ID",
        "Billing Email",
        "Order Total",
        "SKU",
    )
    plain = ["Order number", "Customer email", "Placed at", "Total", "Status"]
    assert layout_of(headers=plain, kind=ImportKind.ORDERS) is None
    assert suggest_mapping(headers=plain, kind=ImportKind.ORDERS)["placed_at"] == "Placed at"


async def test_a_shopify_export_brings_in_orders_lines_and_purchase_stats(shop):
    file, mapping = await _file(_csv(SHOPIFY))
    check = await check_orders(file=file, mapping=mapping)
    assert (check.rows, check.orders, check.new, check.error_rows, check.layout) == (
        5,
        4,
        4,
        0,
        "Shopify orders export",
    )
    assert [(p.row, p.action, p.values["number"], p.values["total"], p.values["status"]) for p in check.preview] == [
        (2, "new", "#1001", "$300.00", "Completed"),
        (4, "new", "#1002", "$50.00", "Refunded"),
        (5, "new", "#1003", "$100.00", "Completed"),  # 120.00 less 20.00 refunded
        (6, "new", "#1004", "$80.00", "Cancelled"),
    ]
    progress: list[float] = []
    result = await import_orders(file=file, mapping=mapping, actor=ACTOR, progress=progress.append)
    assert (result.created, result.updated, result.unchanged, result.error_rows) == (4, 0, 0, 0)
    assert progress == sorted(progress) and progress[-1] == 1.0

    first = await Order.get(number="#1001")
    assert first.placed_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # +0100 read as such
    assert (first.total_cents, first.currency, first.status) == (30_000, "USD", OrderStatus.COMPLETED)
    lines = (
        await OrderLine.filter(order_id=first.id).order_by("id").values_list("sku", "name", "quantity", "price_cents")
    )
    assert lines == [("COF-1", "Coffee Beans 1kg", 2, 10_000), ("GRI-1", "Grinder", 1, 10_000)]
    # Ada: only #1001 counts (#1002 was refunded); Ben: #1003 less its refund (#1004 was cancelled).
    assert await _stats("ada@example.com") == (30_000, 1, 30_000, first.placed_at, first.placed_at)
    ben = datetime(2025, 4, 1, 17, 30, tzinfo=UTC)
    assert await _stats("ben@example.com") == (10_000, 1, 10_000, ben, ben)


async def test_importing_the_same_file_twice_changes_nothing(shop):
    await _import(_csv(SHOPIFY))
    before = (await Order.all().count(), await OrderLine.all().count(), await _stats("ada@example.com"))
    again = await _import(_csv(SHOPIFY))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert (await Order.all().count(), await OrderLine.all().count(), await _stats("ada@example.com")) == before
    file, mapping = await _file(_csv(SHOPIFY))
    check = await check_orders(file=file, mapping=mapping)
    assert (check.new, check.updated, check.unchanged) == (0, 0, 4)
    assert {p.action for p in check.preview} == {"unchanged"}


async def test_a_refund_in_a_later_file_takes_the_order_out_of_the_purchases_and_the_group(shop):
    big = await create_group(
        data={
            "name": "Big spenders",
            "code": "BIG",
            "type": "automatic",
            "rule": {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 20_000}]},
        },
        actor=ACTOR,
    )
    result = await _import(_csv(SHOPIFY))
    assert [(c.group_name, c.joined, c.left) for c in result.rule_changes] == [("Big spenders", 1, 0)]
    ada = shop["ada@example.com"]
    assert await Membership.filter(group_id=big.id).values_list("customer_id", flat=True) == [ada]

    refunded = [SHOPIFY[0].replace(",paid,", ",refunded,"), *SHOPIFY[1:]]
    again = await _import(_csv(refunded))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 3)
    assert (await Order.get(number="#1001")).status == OrderStatus.REFUNDED
    assert await _stats("ada@example.com") == (0, 0, None, None, None)
    assert [(c.group_name, c.joined, c.left) for c in again.rule_changes] == [("Big spenders", 0, 1)]
    assert not await Membership.filter(group_id=big.id).exists()


async def test_the_lines_in_the_file_replace_the_orders_saved_lines(shop):
    await _import(_csv(SHOPIFY))
    fewer = [SHOPIFY[0].replace("2,Coffee Beans 1kg", "3,Coffee Beans 1kg"), *SHOPIFY[2:]]
    result = await _import(_csv(fewer))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    order = await Order.get(number="#1001")
    assert await OrderLine.filter(order_id=order.id).values_list("sku", "quantity") == [("COF-1", 3)]


async def test_row_errors_name_their_row_and_leave_the_whole_order_out(shop):
    rows = [
        *SHOPIFY[:2],
        "#1005,ada@example.com,paid,,USD,10.00,ten dollars,2025-05-01 10:00:00,1,Spoon,10.00,SPO-1,,,",
        "#1006,ada@example.com,paid,,USD,10.00,10.00,2025-05-02 10:00:00,1,Fork,10.00,FOR-1,,,",
        "#1006,ben@example.com,,,,,,,1,Knife,10.00,KNI-1,,,",
        "#1007,ada@example.com,shipped,,USD,5.00,5.00,01/05/2025,1,Cup,5.00,CUP-1,,,",
        "#1001,,,,,,,,1,Filter,5.00,FIL-1,,,",
        "#1008,nobody@example.com,paid,,USD,5.00,5.00,2025-05-03 10:00:00,1,Cup,5.00,CUP-1,,,",
    ]
    file, mapping = await _file(_csv(rows))
    check = await check_orders(file=file, mapping=mapping)
    by_row = {(e.row, e.field): e.message for e in check.errors}
    assert by_row[(4, "total")] == "The total “ten dollars” is not an amount such as 1234.50."
    assert by_row[(6, "email")] == "Customer email “ben@example.com” differs from row 5 (“ada@example.com”)."
    assert by_row[(5, None)] == "Left out with order #1006: row 6 has an error."
    assert by_row[(7, "status")].startswith("Status “shipped” is not one we know")
    assert by_row[(7, "placed_at")] == "“01/05/2025” is not a date: write it as YYYY-MM-DD or YYYY-MM-DD HH:MM."
    assert by_row[(8, "number")] == "Order #1001 is already in rows 2–3: the rows of one order must follow each other."
    assert by_row[(9, "email")].startswith("No customer has the email nobody@example.com")
    assert (check.orders, check.valid, check.error_rows) == (1, 2, 6)

    refused = await import_orders(file=file, mapping=mapping, actor=ACTOR, all_or_nothing=True)
    assert (refused.imported, refused.error_rows) == (False, 6)
    assert not await Order.exists()

    result = await import_orders(file=file, mapping=mapping, actor=ACTOR)
    assert (result.imported, result.created, result.error_rows) == (True, 1, 6)
    assert await Order.all().values_list("number", flat=True) == ["#1001"]


async def test_unknown_emails_become_customers_when_the_owner_asks(shop):
    rows = [
        "#2001,cleo@example.com,paid,,USD,70.00,70.00,2024-02-01 10:00:00,1,Teapot,70.00,TEA-9,Cleo Carter,,",
        "#2002,CLEO@example.com,paid,,USD,30.00,30.00,2024-01-15 10:00:00,1,Cups,30.00,CUP-9,Cleo Carter,,",
    ]
    file, mapping = await _file(_csv(rows))
    check = await check_orders(file=file, mapping=mapping, create_customers=True)
    assert (check.orders, check.new, check.new_customers, check.error_rows) == (2, 2, 1, 0)
    result = await import_orders(file=file, mapping=mapping, actor=ACTOR, create_customers=True)
    assert (result.created, result.customers_created) == (2, 1)
    cleo = await Customer.get(email="cleo@example.com")
    assert (cleo.name, cleo.created_at, cleo.lifetime_cents, cleo.order_count) == (
        "Cleo Carter",
        datetime(2024, 1, 15, 10, tzinfo=UTC),  # a customer since their first order
        10_000,
        2,
    )


async def test_a_woocommerce_export_repeats_the_order_on_each_item_row(shop):
    header = "Order Number,Order Date,Order Status,Billing Email Address,Order Currency,Order Total Amount,Item SKU,Item Name,Quantity,Item Cost"
    rows = [
        '501,2025-06-01 14:05,Completed,ada@example.com,EUR,"1,250.00",A-1,Desk,1,1000.00',
        '501,2025-06-01 14:05,Completed,ada@example.com,EUR,"1,250.00",B-2,Lamp,2,125.00',
        "502,2025-06-02 09:00,Processing,ada@example.com,EUR,99.50,C-3,Chair,1,99.50",
        "503,2025-06-03 09:00,On hold,ben@example.com,EUR,40.00,D-4,Pen,4,10.00",
    ]
    result = await _import(_csv(rows, header=header))
    assert (result.created, result.error_rows) == (3, 0)
    statuses = dict(await Order.all().values_list("number", "status"))
    assert statuses == {"501": OrderStatus.COMPLETED, "502": OrderStatus.COMPLETED, "503": OrderStatus.PENDING}
    assert (await Order.get(number="501")).total_cents == 125_000
    assert await OrderLine.filter(order__number="501").count() == 2
    assert (await _stats("ada@example.com"))[:2] == (134_950, 2)
    assert (await _stats("ben@example.com"))[:2] == (0, 0)


async def test_a_plain_file_without_lines_keeps_the_saved_lines(shop):
    await _import(_csv(SHOPIFY))
    header = "Order number,Customer email,Placed at,Total,Status"
    result = await _import(_csv(["#1001,ada@example.com,2025-03-01 09:00,300,cancelled"], header=header))
    assert (result.created, result.updated) == (0, 1)
    assert await OrderLine.filter(order__number="#1001").count() == 2
    assert await _stats("ada@example.com") == (0, 0, None, None, None)

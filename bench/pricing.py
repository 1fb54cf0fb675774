"""How long the resolver takes to price a cart (issue 5's acceptance: a 50-line cart for a customer
in 5 groups with 3 ancestors, under 20 ms server time).

A scratch shop of its own: 200 products, a price list with three quantity tiers per product, and
a customer in 5 groups, each under a line of 3 ancestors, with pricing of every kind. The
baseline is the same reads done with plain sqlite3 (memberships, groups and benefits, the cart's
products, their price list rows), so the figure shows what the Python decision adds.
"""

import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.shops import p95
from bench.summary import record
from models.benefits import GroupBenefits
from models.catalog import Category, PriceList, PriceListItem, Product, VisibilityGroup
from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.benefits.pricing import CartLine, quote
from services.storage.database import close_database, open_database

PRODUCTS = 200
LINES = 50
RUNS = 200
TARGET_MS = 20


async def _build() -> tuple[int, list[CartLine]]:
    categories = [await Category.create(name=f"Category {i}") for i in range(8)]
    standard = await VisibilityGroup.create(name="Standard Products", is_standard=True)
    products = [
        await Product.create(
            sku=f"SKU-{i:04}",
            name=f"Product {i}",
            category=categories[i % 8],
            visibility_group=standard,
            base_price_cents=1_000 + 37 * i,
        )
        for i in range(PRODUCTS)
    ]
    trade = await PriceList.create(name="Trade")
    await PriceListItem.bulk_create(
        [
            PriceListItem(
                price_list=trade, product=p, min_quantity=minimum, price_cents=p.base_price_cents * share // 100
            )
            for p in products
            for minimum, share in ((1, 95), (10, 88), (100, 80))
        ]
    )
    customer = await Customer.create(
        name="Bench", email="bench@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    kinds = [
        {"type": "percentage", "percent": 15},
        {"additional_percent": 5},
        {"type": "fixed", "fixed_cents": 150, "scope": "categories", "category_ids": [categories[1].id]},
        {"type": "price_list", "price_list_id": trade.id, "min_order_cents": 10_000},
        {"type": "percentage", "percent": 12, "scope": "products", "product_ids": [p.id for p in products[:40]]},
    ]
    number = 0
    for position, pricing in enumerate(kinds):
        parent = None
        for level in range(3):  # three ancestors above each member group
            number += 1
            ancestor = await CustomerGroup.create(
                name=f"Ancestor {number}", name_key=f"ancestor {number}", code=f"A{number}", parent_id=parent
            )
            await GroupBenefits.create(group_id=ancestor.id, pricing={"type": "percentage", "percent": 2 + level})
            parent = ancestor.id
        group = await CustomerGroup.create(
            name=f"Group {position}", name_key=f"group {position}", code=f"G{position}", parent_id=parent
        )
        await GroupBenefits.create(group_id=group.id, pricing=pricing)
        await Membership.create(customer=customer, group=group, is_primary=position == 0, since=datetime.now(UTC))
    cart = [CartLine(product_id=p.id, quantity=(1, 10, 100)[i % 3]) for i, p in enumerate(products[:LINES])]
    return customer.id, cart


def _baseline(path: Path, customer_id: int, cart: list[CartLine]) -> list[float]:
    """The same reads the resolver makes, with plain sqlite3 and no decisions."""
    ids = [line.product_id for line in cart]
    marks = ",".join("?" * len(ids))
    connection = sqlite3.connect(path)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        connection.execute(
            "SELECT m.group_id, m.is_primary FROM membership m JOIN customer_group g ON g.id = m.group_id "
            "WHERE m.customer_id = ? AND g.status = 'active'",
            (customer_id,),
        ).fetchall()
        connection.execute("SELECT id, name, parent_id FROM customer_group").fetchall()
        connection.execute("SELECT * FROM group_benefits").fetchall()
        connection.execute(f"SELECT * FROM product WHERE id IN ({marks})", ids).fetchall()
        connection.execute(f"SELECT * FROM price_list_item WHERE product_id IN ({marks})", ids).fetchall()
        connection.execute("SELECT id FROM visibility_group WHERE is_standard").fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    connection.close()
    return samples


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pricing.sqlite3"
        await open_database(database_url=f"sqlite://{path}")
        try:
            customer_id, cart = await _build()
            for _ in range(10):
                await quote(customer_id=customer_id, lines=cart)
            samples = []
            for _ in range(RUNS):
                started = time.perf_counter()
                result = await quote(customer_id=customer_id, lines=cart)
                samples.append((time.perf_counter() - started) * 1000)
        finally:
            await close_database()
        baseline = _baseline(path, customer_id, cart)
    candidates = sum(len(line.candidates) for line in result.lines)
    median, high = statistics.median(samples), p95(samples)
    base_median = statistics.median(baseline)
    print(f"\nPricing a {LINES}-line cart: customer in 5 groups, each under 3 ancestors ({candidates} candidates)")
    print(f"   {'figure':<52}{'median ms':>10}{'p95 ms':>10}")
    print(f"   {'quote() (services/pricing.py)':<52}{median:>10.2f}{high:>10.2f}")
    print(f"   {'baseline: the same reads with plain sqlite3':<52}{base_median:>10.2f}{p95(baseline):>10.2f}")
    print(f"   quote / baseline: {median / base_median:.1f}x")
    verdict = "OK" if high < TARGET_MS else "NOT MET"
    print(f"   target: under {TARGET_MS} ms server time; p95 {high:.2f} ms: {verdict}")
    record(
        "pricing",
        "quote p95",
        high,
        "ms",
        scale=f"{LINES}-line cart, {candidates} candidates",
        baseline=p95(baseline),
        baseline_is="plain sqlite3 reads",
        target=f"< {TARGET_MS} ms",
        passed=high < TARGET_MS,
    )


if __name__ == "__main__":
    asyncio.run(main())

"""A shop's database made by the first release, with data in it, upgraded to the newest schema:
nothing is lost, and what later migrations derive (tags in their own table, member counts, rule
versions, the order indexes) is filled in."""

import sqlite3
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from models.customer import Customer, CustomerTag, Order
from models.group import CustomerGroup, Membership, MembershipEvent, RuleVersion
from services.promotions import get_promotion, update_promotion
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database, tortoise_config

# The first release's database is a SQLite file, written here with the sqlite3 module.
pytestmark = pytest.mark.sqlite_only

AT = "2025-01-15 12:00:00+00:00"
RULE = '{"match": "all", "conditions": [{"field": "order_count", "op": "gte", "value": 2}]}'


async def _first_release(path: Path) -> None:
    """The schema of migration 0001 with a small shop written by hand, as that release stored it."""
    await migrate(config=tortoise_config(f"sqlite://{path}"), target="models.0001_initial")
    await Tortoise.close_connections()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO shop (name, currency, one_group_per_customer) VALUES ('Old Shop', 'EUR', 0)")
        for i, tags in enumerate(('["VIP", "b2b"]', "[]", '["b2b"]')):
            db.execute(
                "INSERT INTO customer (name, company, email, country, status, payment_rating, tags, metadata, "
                "created_at, lifetime_cents, order_count, first_order_at, last_order_at) "
                "VALUES (?, '', ?, 'DE', 'active', 'good', ?, '{}', ?, ?, ?, ?, ?)",
                (
                    f"Customer {i}",
                    f"c{i}@example.com",
                    tags,
                    AT,
                    30_000 * i,
                    2 * i,
                    AT if i else None,
                    AT if i else None,
                ),
            )
        for customer in (2, 2, 3, 3, 3, 3):
            db.execute(
                "INSERT INTO \"order\" (placed_at, total_cents, status, customer_id) VALUES (?, 15000, 'completed', ?)",
                (AT, customer),
            )
        db.execute(
            "INSERT INTO customer_group (name, name_key, code, description, status, type, rule, is_default, metadata, "
            "created_at, updated_at, version) VALUES ('Regulars', 'regulars', 'REG', '', 'active', 'automatic', ?, 0, "
            "'{}', ?, ?, 1)",
            (RULE, AT, AT),
        )
        db.execute(
            "INSERT INTO customer_group (name, name_key, code, description, status, type, is_default, metadata, "
            "created_at, updated_at, version) VALUES ('Retail', 'retail', 'RETAIL', '', 'active', 'manual', 1, '{}', "
            "?, ?, 1)",
            (AT, AT),
        )
        for customer, group in ((2, 1), (3, 1), (1, 2)):
            db.execute(
                "INSERT INTO membership (source, is_primary, since, customer_id, group_id) VALUES ('rule', 1, ?, ?, ?)",
                (AT, customer, group),
            )
            db.execute(
                "INSERT INTO membership_event (group_id, group_name, action, source, reason, actor, at, customer_id) "
                "VALUES (?, 'g', 'joined', 'rule', '', 'system', ?, ?)",
                (group, AT, customer),
            )


async def test_upgrading_the_first_release_keeps_every_row(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    await _first_release(path)
    await open_database(database_url=f"sqlite://{path}")
    try:
        assert await Customer.all().count() == 3
        assert await Order.all().count() == 6
        assert await Membership.all().count() == 3
        assert await MembershipEvent.all().count() == 3
        tags = sorted(await CustomerTag.all().values_list("customer_id", "tag"))
        assert tags == [(1, "b2b"), (1, "vip"), (3, "b2b")]
        assert await Customer.filter(id=3).values_list("average_order_cents", flat=True) == [15_000]
        counts = dict(await CustomerGroup.all().values_list("code", "member_count"))
        assert counts == {"REG": 2, "RETAIL": 1}
        version = await RuleVersion.get(group__code="REG")
        assert (version.number, version.rule["conditions"][0]["field"]) == (1, "order_count")
    finally:
        await close_database()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    columns = {
        name: [row[2] for row in db.execute(f"PRAGMA index_info('{name}')")]
        for _, name, *_ in db.execute("PRAGMA index_list('order')")
    }
    db.close()
    assert ["customer_id", "placed_at", "status", "total_cents"] in columns.values(), columns


async def test_a_promotion_saved_before_versions_were_kept_can_be_edited_after_the_upgrade(tmp_path: Path):
    # The shop's promotion was saved by the release before migration 0011: after the upgrade it is at
    # version 1, and an edit made on that version is saved.
    path = tmp_path / "before_versions.sqlite3"
    await migrate(config=tortoise_config(f"sqlite://{path}"), target="models.0010_customer_report_index")
    await Tortoise.close_connections()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO promotion (name, name_key, type, status, percent, free_item_quantity, minimum_purchase_cents, "
            "stack_with_group_discount, include_subgroups, created_at, updated_at) "
            "VALUES ('Old Sale', 'old sale', 'additional_discount', 'draft', 10, 1, 0, 0, 1, ?, ?)",
            (AT, AT),
        )
    db.close()
    await open_database(database_url=f"sqlite://{path}")
    try:
        old = await get_promotion(promotion_id=1)
        assert old.version == 1
        edited = await update_promotion(
            promotion_id=1, version=1, data=old.as_input().model_copy(update={"percent": 12}), actor=SystemActor("anna")
        )
        assert (edited.percent, edited.version) == (12, 2)
    finally:
        await close_database()

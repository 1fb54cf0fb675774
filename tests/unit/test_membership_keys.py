"""Deleting customers or groups takes their memberships with them, on SQLite by the foreign keys'
ON DELETE CASCADE, on PostgreSQL (which checks no keys on membership, migration 0023) by a trigger
per DELETE statement."""

from tortoise import connections

from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.storage.sql import fetch_rows, is_postgres


async def test_deleted_customers_and_groups_leave_no_membership_behind(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    in_gold = await Membership.filter(group_id=gold.id).values_list("customer_id", flat=True)
    others = await Membership.exclude(group_id=gold.id).exclude(customer_id__in=in_gold).count()
    assert in_gold and others
    connection = connections.get("default")
    if is_postgres(connection):  # the per-row checks this is about are gone
        keys = "SELECT 1 FROM pg_constraint WHERE conrelid = 'membership'::regclass AND contype = 'f'"
        assert not await fetch_rows(connection, keys)

    await Customer.filter(id__in=in_gold[:3]).delete()
    assert not await Membership.filter(customer_id__in=in_gold[:3]).exists()
    assert await Membership.filter(group_id=gold.id).count() == len(in_gold) - 3

    await CustomerGroup.filter(id=gold.id).delete()
    assert not await Membership.filter(group_id=gold.id).exists()
    assert await Membership.exclude(customer_id__in=in_gold).count() == others

"""The audit log: every change of a group, rule, benefits, promotion, setting, staff account or API
token is kept with who made it, when, and the values before and after; the log filters and pages,
and only the shop's owner reads it."""

from datetime import UTC, date, datetime, timedelta

import pytest

from models.audit import AuditEntry
from models.group import CustomerGroup
from models.staff import Role
from services.benefits.sections import save_benefits
from services.errors import FormError, PermissionDeniedError
from services.groups.group import create_group, delete_group, get_group, update_group
from services.groups.rule_versions import restore_rule_version
from services.promotions import create_promotion, delete_promotion, update_promotion
from services.shop import update_settings
from services.staff.accounts import change_password, change_role, create_first_owner, create_user, get_actor, set_active
from services.staff.actor import Actor, SystemActor
from services.staff.audit import audit_people, list_audit, record
from services.staff.tokens import create_token, revoke_token
from services.webhooks.endpoints import create_endpoint, delete_endpoint

PASSWORD = "a long password"


async def owner() -> Actor:
    return await create_first_owner(email="olivia@example.com", name="Olivia Owner", password=PASSWORD)


async def newest() -> AuditEntry:
    return await AuditEntry.all().order_by("-id").first()


def rule(minimum: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": minimum}]}


async def test_group_changes_are_kept_with_who_and_the_changed_values(db):
    olivia = await owner()
    group = await create_group(data={"name": "VIP Customers", "code": "vip"}, actor=olivia)
    created = await newest()
    assert (created.action, created.subject_type, created.subject_id, created.subject_name) == (
        "group.created",
        "group",
        group.id,
        "VIP Customers",
    )
    assert (created.actor_id, created.actor_name, created.before) == (olivia.id, "Olivia Owner", None)
    assert created.after == {
        "name": "VIP Customers",
        "code": "VIP",
        "description": "",
        "type": "manual",
        "status": "active",
        "parent": None,
        "capacity": None,
        "metadata": {},
        "rule": None,
    }

    parent = await create_group(data={"name": "Trade", "code": "TRADE"}, actor=SystemActor("system"))
    await update_group(
        group_id=group.id,
        version=group.version,
        data={"name": "VIP", "code": "VIP", "parent_id": parent.id, "capacity": 50},
        actor=olivia,
    )
    page = await list_audit(actor=olivia, subject_type="group", page=1, per_page=10)
    updated = page.rows[0]
    assert updated.summary == "Updated group VIP"
    assert [(c.field, c.before, c.after) for c in updated.changes] == [
        ("name", "VIP Customers", "VIP"),
        ("parent", None, "Trade"),
        ("capacity", None, 50),
    ]

    await delete_group(group_id=group.id, actor=olivia)
    deleted = await newest()
    assert (deleted.action, deleted.after, deleted.before["name"]) == ("group.deleted", None, "VIP")
    assert page.rows[1].actor_name == "system" and page.rows[1].actor_id is None


async def test_a_restored_rule_version_is_one_entry(demo_db):
    olivia = await owner()
    gold = await CustomerGroup.get(code="GOLD")
    current = await get_group(group_id=gold.id)
    first_rule = current.rule
    data = current.as_input()
    data.rule = rule(1_000_000)
    await update_group(group_id=gold.id, version=current.version, data=data, actor=olivia)
    before = await AuditEntry.all().count()

    current = await get_group(group_id=gold.id)
    await restore_rule_version(group_id=gold.id, number=1, version=current.version, actor=olivia)

    assert await AuditEntry.all().count() == before + 1
    restored = (await list_audit(actor=olivia, page=1, per_page=1)).rows[0]
    assert (restored.action, restored.subject_type, restored.actor_id) == ("rule.restored", "rule", olivia.id)
    assert restored.summary == "Restored an earlier rule of group Gold Tier"
    assert [(c.field, c.before, c.after) for c in restored.changes] == [("rule", rule(1_000_000), first_rule)]


async def test_benefits_promotions_and_settings_are_kept(demo_db):
    olivia = await owner()
    vip = await CustomerGroup.get(code="VIP")
    await save_benefits(group_id=vip.id, sections={"payment": {"net_days": 60}}, actor=olivia)
    benefits = await newest()
    assert (benefits.action, benefits.subject_name) == ("benefits.updated", "VIP Customers")
    assert benefits.after["payment"]["net_days"] == 60
    assert benefits.before["payment"] != benefits.after["payment"]

    sale = {
        "name": "Spring Sale",
        "type": "additional_discount",
        "status": "active",
        "target_group_ids": [vip.id],
        "percent": 10,
        "valid_from": date(2026, 3, 1),
        "valid_to": date(2026, 3, 31),
    }
    promotion = await create_promotion(data=sale, actor=olivia)
    created = await newest()
    assert created.after["valid_from"] == "2026-03-01", "dates are kept as text"
    assert created.after["target_groups"] == ["VIP Customers"]
    await update_promotion(
        promotion_id=promotion.id, version=promotion.version, data={**sale, "percent": 15}, actor=olivia
    )
    changes = (await list_audit(actor=olivia, subject_type="promotion", page=1, per_page=5)).rows[0].changes
    assert [(c.field, c.before, c.after) for c in changes] == [("percent", 10.0, 15.0)]
    await delete_promotion(promotion_id=promotion.id, actor=olivia)
    assert (await newest()).action == "promotion.deleted"

    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await update_settings(one_group_per_customer=False, default_group_id=wholesale.id, actor=olivia)
    settings = (await list_audit(actor=olivia, subject_type="settings", page=1, per_page=5)).rows[0]
    assert settings.summary == "Updated the shop settings"
    assert [(c.field, c.before, c.after) for c in settings.changes] == [("default_group", "Retail", "Wholesale")]


async def test_staff_changes_are_kept_without_passwords(db):
    olivia = await owner()
    max_ = await create_user(email="max@example.com", name="Max", password=PASSWORD, role=Role.MANAGER, actor=olivia)
    await change_role(user_id=max_.id, role=Role.VIEWER, actor=olivia)
    await set_active(user_id=max_.id, active=False, actor=olivia)
    await set_active(user_id=max_.id, active=True, actor=olivia)
    with pytest.raises(FormError):
        await change_role(user_id=olivia.id, role=Role.MANAGER, actor=olivia)

    rows = (await list_audit(actor=olivia, subject_type="staff", page=1, per_page=10)).rows
    assert [row.summary for row in rows] == [
        "Reactivated Max",
        "Deactivated Max",
        "Changed the role of Max",
        "Invited Max",
        "Created the owner account of Olivia Owner",
    ], "a refused change leaves no entry"
    assert rows[3].after == {"name": "Max", "email": "max@example.com", "role": "manager"}
    assert [(c.field, c.before, c.after) for c in rows[2].changes] == [("role", "manager", "viewer")]
    stored = str(await AuditEntry.all().values_list("before", "after"))
    assert PASSWORD not in stored and "argon2" not in stored


async def test_the_log_filters_by_subject_person_text_and_dates_and_pages(db):
    olivia = await owner()
    for n in range(7):
        await record(
            actor=olivia if n % 2 else "system",
            action="group.updated",
            subject_type="group",
            subject_id=n,
            subject_name=f"Group {n}",
            before={"capacity": n},
            after={"capacity": n + 1},
        )
    await record(
        actor=olivia,
        action="promotion.created",
        subject_type="promotion",
        subject_id=1,
        subject_name="Summer <script>",
        before=None,
        after={"name": "Summer <script>"},
    )
    long_ago = datetime(2020, 1, 15, 12, tzinfo=UTC)
    await AuditEntry.filter(subject_id=0).update(at=long_ago)

    everything = await list_audit(actor=olivia, page=1, per_page=3)
    assert (everything.total, everything.pages, len(everything.rows)) == (9, 3, 3)
    assert everything.rows[0].subject_name == "Summer <script>", "newest first"
    last = await list_audit(actor=olivia, page=3, per_page=3)
    assert [row.subject_name for row in last.rows] == ["Group 1", "Olivia Owner", "Group 0"]

    assert (await list_audit(actor=olivia, subject_type="promotion", page=1, per_page=10)).total == 1
    assert (await list_audit(actor=olivia, actor_name="Olivia Owner", page=1, per_page=10)).total == 5
    assert [r.subject_name for r in (await list_audit(actor=olivia, search="group 3", page=1, per_page=10)).rows] == [
        "Group 3"
    ]
    assert (await list_audit(actor=olivia, search="%", page=1, per_page=10)).total == 0, "search text is data"
    assert (await list_audit(actor=olivia, until=date(2020, 1, 15), page=1, per_page=10)).total == 1, (
        "the last day counts"
    )
    assert (await list_audit(actor=olivia, since=date(2020, 1, 16), page=1, per_page=10)).total == 8
    assert (await list_audit(actor=olivia, until=date.max, page=1, per_page=10)).total == 9, "to the last day there is"
    today = datetime.now(UTC).date()
    assert (
        await list_audit(actor=olivia, since=today - timedelta(days=1), until=today, page=1, per_page=10)
    ).total == 8
    assert await audit_people(actor=olivia) == ["Olivia Owner", "system"]


async def test_a_changed_description_is_kept(db):
    olivia = await owner()
    group = await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=olivia)
    data = (await get_group(group_id=group.id)).as_input()
    data.description = "Our best customers"
    await update_group(group_id=group.id, version=group.version, data=data, actor=olivia)
    updated = (await list_audit(actor=olivia, subject_type="group", page=1, per_page=1)).rows[0]
    assert [(c.field, c.before, c.after) for c in updated.changes] == [("description", "", "Our best customers")]


async def test_a_rule_edit_is_kept_as_a_rule_change_with_the_rule_before_and_after(db):
    olivia = await owner()
    group = await create_group(
        data={"name": "Big spenders", "code": "BIG", "type": "automatic", "rule": rule(100_000)}, actor=olivia
    )
    current = await get_group(group_id=group.id)
    data = current.as_input()
    data.rule = rule(200_000)
    await update_group(group_id=group.id, version=current.version, data=data, actor=olivia)
    changed = (await list_audit(actor=olivia, page=1, per_page=1)).rows[0]
    assert (changed.action, changed.subject_type, changed.subject_name) == ("rule.updated", "rule", "Big spenders")
    assert changed.summary == "Changed the rule of group Big spenders"
    assert [(c.field, c.before, c.after) for c in changed.changes] == [("rule", rule(100_000), rule(200_000))]

    # A save changing the rule and the description: one entry for each.
    current = await get_group(group_id=group.id)
    data = current.as_input()
    data.rule, data.description = rule(300_000), "Spent $3,000 or more"
    before = await AuditEntry.all().count()
    await update_group(group_id=group.id, version=current.version, data=data, actor=olivia)
    rows = (await list_audit(actor=olivia, page=1, per_page=2)).rows
    assert await AuditEntry.all().count() == before + 2
    assert {row.action: [c.field for c in row.changes] for row in rows} == {
        "group.updated": ["description"],
        "rule.updated": ["rule"],
    }


async def test_api_tokens_and_password_changes_are_kept_without_secrets(db):
    olivia = await owner()
    row, secret = await create_token(actor=olivia, name="Shop sync")
    created = await newest()
    assert (created.action, created.subject_type, created.subject_name, created.actor_id) == (
        "api_token.created",
        "api_token",
        "Shop sync",
        olivia.id,
    )
    assert created.after == {"name": "Shop sync", "prefix": row.prefix, "owner": "Olivia Owner", "active": True}
    await revoke_token(actor=olivia, token_id=row.id)
    revoked = (await list_audit(actor=olivia, subject_type="api_token", page=1, per_page=1)).rows[0]
    assert revoked.summary == "Revoked API token Shop sync"
    assert [(c.field, c.before, c.after) for c in revoked.changes] == [("active", True, False)]

    await change_password(actor=olivia, current=PASSWORD, new="another long password")
    changed = await newest()
    assert (changed.action, changed.subject_name, changed.actor_id) == (
        "staff.password_changed",
        "Olivia Owner",
        olivia.id,
    )
    stored = str(await AuditEntry.all().values_list("before", "after"))
    assert secret not in stored and secret[10:] not in stored
    assert "another long password" not in stored and PASSWORD not in stored and "argon2" not in stored


async def test_only_the_owner_reads_the_log(db):
    olivia = await owner()
    for role in (Role.MANAGER, Role.VIEWER):
        row = await create_user(
            email=f"{role.value}@example.com", name=role.value.title(), password=PASSWORD, role=role, actor=olivia
        )
        staff = await get_actor(user_id=row.id)
        with pytest.raises(PermissionDeniedError, match='"Manage staff" permission'):
            await list_audit(actor=staff)
        with pytest.raises(PermissionDeniedError, match='"Manage staff" permission'):
            await audit_people(actor=staff)
    assert (await list_audit(actor=olivia)).total == 3  # the owner account and the two invitations


async def test_webhook_changes_read_in_words(db):
    olivia = await owner()
    endpoint = await create_endpoint(url="https://hooks.example.com/groups", events=["member.joined"], actor=olivia)
    await delete_endpoint(endpoint_id=endpoint.endpoint.id, actor=olivia)
    rows = (await list_audit(actor=olivia)).rows
    assert [row.summary for row in rows][:2] == [
        "Deleted webhook https://hooks.example.com/groups",
        "Added webhook https://hooks.example.com/groups",
    ]

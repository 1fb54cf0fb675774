"""The services behind the API: personal tokens, and creating and changing customers."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from models.audit import ApiToken
from models.customer import Customer
from models.group import Membership
from models.staff import Role
from services.customers import create_customer, update_customer
from services.errors import FormError, PermissionDeniedError
from services.groups.group import create_group
from services.staff.accounts import change_role, create_first_owner, create_user, get_actor, set_active
from services.staff.actor import Actor
from services.staff.tokens import actor_for_token, create_token, list_tokens, revoke_token


async def staff() -> tuple[Actor, Actor, Actor]:
    owner = await create_first_owner(email="olivia@example.com", name="Olivia", password="a long password")
    rows = [
        await create_user(email=f"{name}@example.com", name=name, password="a long password", role=role, actor=owner)
        for name, role in (("max", Role.MANAGER), ("vera", Role.VIEWER))
    ]
    manager, viewer = [await get_actor(user_id=row.id) for row in rows]
    return owner, manager, viewer


async def test_a_token_is_kept_only_as_a_hash_and_acts_as_its_owner(db):
    owner, manager, _ = await staff()
    row, secret = await create_token(actor=manager, name="  Stock   sync ")
    assert (row.name, row.user_name, row.prefix) == ("Stock sync", "max", secret[:10])
    assert secret.startswith("cg_") and len(secret) > 40
    stored = await ApiToken.get(id=row.id)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.token_hash

    assert await actor_for_token(secret=secret) == manager
    assert await actor_for_token(secret=secret[:-1]) is None
    assert await actor_for_token(secret="not even ours") is None

    await change_role(user_id=manager.id, role=Role.VIEWER, actor=owner)
    assert (await actor_for_token(secret=secret)).role == Role.VIEWER  # the role as it is now
    await set_active(user_id=manager.id, active=False, actor=owner)
    assert await actor_for_token(secret=secret) is None


async def test_last_use_is_written_at_most_once_a_minute(db):
    owner, _, _ = await staff()
    row, secret = await create_token(actor=owner, name="Reports")
    first = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    await actor_for_token(secret=secret, now=first)
    await actor_for_token(secret=secret, now=first + timedelta(seconds=30))
    assert (await ApiToken.get(id=row.id)).last_used_at == first
    await actor_for_token(secret=secret, now=first + timedelta(minutes=2))
    assert (await ApiToken.get(id=row.id)).last_used_at == first + timedelta(minutes=2)


async def test_people_revoke_their_own_tokens_and_the_owner_anyones(db):
    owner, manager, viewer = await staff()
    mine, _ = await create_token(actor=manager, name="Mine")
    theirs, theirs_secret = await create_token(actor=viewer, name="Theirs")
    with pytest.raises(FormError):
        await create_token(actor=viewer, name="   ")

    assert [t.name for t in await list_tokens(actor=manager)] == ["Mine"]
    assert {t.name for t in await list_tokens(actor=owner)} == {"Mine", "Theirs"}
    with pytest.raises(PermissionDeniedError):
        await revoke_token(actor=manager, token_id=theirs.id)
    assert (await revoke_token(actor=manager, token_id=mine.id)).active is False
    assert (await revoke_token(actor=owner, token_id=theirs.id)).revoked_at is not None
    assert await actor_for_token(secret=theirs_secret) is None
    assert [t.active for t in await list_tokens(actor=owner)] == [False, False]


async def test_a_customer_is_created_and_changed_with_every_field_checked(db):
    owner, _, viewer = await staff()
    with pytest.raises(PermissionDeniedError, match="Manage customers"):
        await create_customer(data={"email": "a@example.com", "name": "A"}, actor=viewer)
    with pytest.raises(FormError) as refused:
        await create_customer(
            data={"email": "not-an-email", "name": " ", "country": "Deutschland", "tags": ["ok", "tab\there"]},
            actor=owner,
        )
    assert set(refused.value.errors) == {"email", "name", "country", "tags"}

    customer = await create_customer(
        data={"email": " Anna@Shop.Example ", "name": "Anna  Smith", "country": "gb", "tags": ["VIP", "vip", "b2b"]},
        actor=owner,
    )
    assert (customer.email, customer.name, customer.country, customer.tags) == (
        "anna@shop.example",
        "Anna Smith",
        "GB",
        ["b2b", "vip"],
    )
    with pytest.raises(FormError, match="belongs to another customer"):
        await create_customer(data={"email": "anna@shop.example", "name": "Twin"}, actor=owner)

    changed = await update_customer(customer_id=customer.id, data={"company": "Smith & Co"}, actor=owner)
    assert (changed.company, changed.name, changed.tags) == ("Smith & Co", "Anna Smith", ["b2b", "vip"])
    with pytest.raises(PermissionDeniedError):
        await update_customer(customer_id=customer.id, data={"name": "Hacked"}, actor=viewer)
    assert (await Customer.get(id=customer.id)).name == "Anna Smith"


async def test_rule_based_groups_follow_a_created_or_changed_customer(db):
    owner, _, _ = await staff()
    rule = {"match": "all", "conditions": [{"field": "country", "op": "in", "value": ["NL"]}]}
    dutch = await create_group(data={"name": "Dutch", "code": "NL", "type": "automatic", "rule": rule}, actor=owner)
    customer = await create_customer(data={"email": "jan@example.nl", "name": "Jan", "country": "NL"}, actor=owner)
    assert [m.group_name for m in customer.memberships] == ["Dutch"]
    moved = await update_customer(customer_id=customer.id, data={"country": "BE"}, actor=owner)
    assert moved.memberships == []
    assert not await Membership.exists(group_id=dutch.id)

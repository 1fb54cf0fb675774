"""A move between two rungs of a ladder is one event: both rungs' timelines and the customer's show
it, each in its own words, and the feed and the webhooks carry it as one member.moved with from, to
and direction."""

from datetime import UTC, datetime, timedelta

from models.customer import Customer
from models.group import CustomerGroup, MembershipAction, MembershipEvent, MembershipSource
from models.webhook import WebhookEvent
from services.membership.history import describe, list_history
from services.staff.actor import SystemActor
from services.storage.database import background_connection
from services.webhooks import outbox
from services.webhooks.feed import membership_events
from services.webhooks.payloads import payload

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWNER = SystemActor("olivia")


async def _group(name: str, code: str) -> CustomerGroup:
    return await CustomerGroup.create(name=name, name_key=name.casefold(), code=code)


async def _ladder_move(customer: Customer, moved_to: CustomerGroup, moved_from: CustomerGroup, action, at):
    await MembershipEvent.create(
        customer=customer,
        group_id=moved_to.id,
        group_name=moved_to.name,
        action=action,
        source=MembershipSource.RULE,
        reason="Rule version 2 of Gold Tier",
        at=at,
        other_group_id=moved_from.id,
        other_group_name=moved_from.name,
    )
    await outbox.membership_events(background_connection(), group_ids=[moved_to.id], at=at)


async def test_a_move_up_reads_right_on_both_rungs_and_on_the_customers_timeline(db):
    dana = await Customer.create(name="Dana Buyer", email="dana@example.com", created_at=T0 - timedelta(days=400))
    gold, silver = await _group("Gold Tier", "GOLD"), await _group("Silver Tier", "SILVER")
    await _ladder_move(dana, gold, silver, MembershipAction.MOVED_UP, T0)

    assert await MembershipEvent.all().count() == 1
    on_gold = (await list_history(group_id=gold.id)).rows
    on_silver = (await list_history(group_id=silver.id)).rows
    on_dana = (await list_history(customer_id=dana.id)).rows
    assert [describe(r) for r in on_gold] == ["Moved up from Silver Tier"]
    assert [describe(r) for r in on_silver] == ["Moved up to Gold Tier"]
    assert [describe(r) for r in on_dana] == ["Moved up from Silver Tier to Gold Tier"]
    assert on_silver[0].moved_here and on_silver[0].group_id == gold.id, "shown as a move; links the rung joined"
    moves = await list_history(group_id=silver.id, actions=[MembershipAction.MOVED])
    assert moves.total == 1, '"Moved" takes in the moves along a ladder'
    assert (await list_history(group_id=silver.id, actions=[MembershipAction.MOVED_DOWN])).total == 0


async def test_the_feed_and_the_webhook_carry_one_move_with_from_to_and_direction(db):
    dana = await Customer.create(name="Dana Buyer", email="dana@example.com", created_at=T0)
    gold, silver = await _group("Gold Tier", "GOLD"), await _group("Silver Tier", "SILVER")
    await _ladder_move(dana, silver, gold, MembershipAction.MOVED_DOWN, T0)

    [event] = await WebhookEvent.all()
    data = payload(event)["data"]
    assert payload(event)["type"] == "member.moved"
    assert data["from"] == {"id": gold.id, "name": "Gold Tier"}
    assert data["to"] == {"id": silver.id, "name": "Silver Tier", "code": "SILVER"}
    assert (data["direction"], data["moved_from"], data["group"]["name"]) == ("down", "Gold Tier", "Silver Tier")
    assert data["reason"] == "Rule version 2 of Gold Tier"

    [item] = (await membership_events(after=None, limit=10, actor=OWNER)).items
    assert (item["type"], item["from"]["name"], item["to"]["name"], item["direction"]) == (
        "member.moved",
        "Gold Tier",
        "Silver Tier",
        "down",
    )


async def test_leaving_a_lower_rung_for_the_one_kept_says_which_rung_stays(db):
    dana = await Customer.create(name="Dana Buyer", email="dana@example.com", created_at=T0 - timedelta(days=400))
    gold, silver = await _group("Gold Tier", "GOLD"), await _group("Silver Tier", "SILVER")
    await _ladder_move(dana, silver, gold, MembershipAction.LEFT, T0)  # on both; Gold kept

    assert [describe(r) for r in (await list_history(customer_id=dana.id)).rows] == [
        "Left Silver Tier (stays on Gold Tier)"
    ]

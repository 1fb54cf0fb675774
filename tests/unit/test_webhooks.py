"""Webhooks out: the owner subscribes a receiver, members come and go, and the receiver gets every
event signed, in order, once; through failures, days of them, and two senders at once."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from models.customer import Customer
from models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.errors import FormError
from services.groups.group import create_group, delete_group, get_group, update_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.rules.ladder_setup import make_ladder
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor
from services.webhooks import outbox
from services.webhooks.endpoints import (
    create_endpoint,
    list_deliveries,
    resend,
    send_test_event,
    set_enabled,
)
from services.webhooks.feed import membership_events
from services.webhooks.payloads import EVENT_TYPES, event_id
from services.webhooks.sender import SWITCH_OFF_AFTER, Sender, retry_delay
from tests.webhook_receiver import Receiver

OWNER = SystemActor("olivia")
ALL_EVENTS = list(EVENT_TYPES)


async def _customers(count: int, *, prefix: str = "Customer") -> list[int]:
    await Customer.bulk_create(
        [
            Customer(
                name=f"{prefix} {i}",
                email=f"{prefix.lower()}{i}@example.com",
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
            for i in range(count)
        ]
    )
    return list(await Customer.filter(name__startswith=prefix).order_by("id").values_list("id", flat=True))


async def _group(name: str, code: str, **extra) -> int:
    return (await create_group(data={"name": name, "code": code, **extra}, actor=OWNER)).id


class Clock:
    """The sender's time, moved on by hand: retries come due without waiting for them."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def later(self, delta: timedelta) -> None:
        self.now += delta


async def _send_everything(sender: Sender, clock: Clock, *, rounds: int = 400) -> None:
    """Run the sender until no endpoint has anything left, moving its clock on an hour a round."""
    for _ in range(rounds):
        await sender.deliver_due()
        if not await _anything_left():
            return
        clock.later(timedelta(hours=1))
    raise AssertionError("The sender did not finish")


async def _anything_left() -> bool:
    newest = await WebhookEvent.all().order_by("-id").first()
    for endpoint in await WebhookEndpoint.filter(enabled=True):
        waiting = await WebhookEvent.filter(
            id__gt=endpoint.last_event_id, endpoint_id__isnull=True, type__in=list(endpoint.events)
        ).exists()
        if waiting or await WebhookDelivery.filter(endpoint_id=endpoint.id, status=DeliveryStatus.QUEUED).exists():
            return True
        assert newest is None or endpoint.last_event_id <= newest.id
    return False


def _verified(secret: str, requests) -> list[dict]:
    signer = Webhook(secret)
    return [signer.verify(r.body, r.headers) for r in requests]


async def _outbox_ids(types: list[str]) -> list[str]:
    ids = (
        await WebhookEvent.filter(type__in=types, endpoint_id__isnull=True).order_by("id").values_list("id", flat=True)
    )
    return [event_id(i) for i in ids]


async def test_members_added_and_removed_reach_the_receiver_signed_and_in_order(db):
    ids = await _customers(12)
    vip = await _group("VIP Customers", "VIP")
    retail = await _group("Retail", "RETAIL")
    with Receiver().running() as receiver:
        created = await create_endpoint(
            url=receiver.url,
            events=["member.joined", "member.left", "member.moved"],
            description="Storefront",
            actor=OWNER,
        )
        assert created.secret.startswith("whsec_") and created.endpoint.secret_hint.endswith(created.secret[-4:])
        await add_members(group_id=vip, customer_ids=ids[:10], mode=AddMode.ADD, actor=OWNER, reason="Fair leads")
        await remove_members(
            group_id=vip, customer_ids=ids[:3], mode=RemoveMode.OTHER_GROUP, target_group_id=retail, actor=OWNER
        )
        await remove_members(group_id=vip, customer_ids=ids[3:5], mode=RemoveMode.REMOVE, actor=OWNER)

        clock = Clock()
        await _send_everything(Sender(name="one", clock=clock), clock)

        requests = receiver.requests
        payloads = _verified(created.secret, requests)
        assert [r.id for r in requests] == await _outbox_ids(["member.joined", "member.left", "member.moved"])
        assert [p["type"] for p in payloads] == (
            ["member.joined"] * 10 + ["member.moved"] * 3 + ["member.joined"] * 3 + ["member.left"] * 2
        )
        first = payloads[0]["data"]
        assert first["customer"] == {"id": ids[0], "email": "customer0@example.com", "name": "Customer 0"}
        assert first["group"] == {"id": vip, "name": "VIP Customers", "code": "VIP"}
        assert (first["source"], first["reason"]) == ("manual", "Fair leads")
        assert payloads[10]["data"]["moved_to"] == "Retail"
        assert payloads[13]["data"]["moved_from"] == "VIP Customers"
        ids_in_order = [int(r.id.removeprefix("evt_")) for r in requests]
        assert ids_in_order == sorted(ids_in_order)
    log, total = await list_deliveries(endpoint_id=created.endpoint.id, actor=OWNER)
    assert total == 18 and {d.status for d in log} == {DeliveryStatus.DELIVERED}


async def test_group_changes_and_rule_runs_are_sent_to_who_wants_them(db):
    await _customers(3)
    with Receiver().running() as receiver:
        created = await create_endpoint(
            url=receiver.url,
            events=["group.created", "group.updated", "group.deleted", "rule_run.finished"],
            actor=OWNER,
        )
        rule = {"match": "all", "conditions": [{"field": "email", "op": "contains", "value": "@example.com"}]}
        group = await create_group(
            data={"name": "Everyone", "code": "ALL", "type": "automatic", "rule": rule}, actor=OWNER
        )
        detail = await get_group(group_id=group.id)
        data = detail.as_input()
        data.description = "Every customer with an email"
        await update_group(group_id=group.id, version=detail.version, data=data, actor=OWNER)
        await apply_rule(group_id=group.id, actor=OWNER)
        await delete_group(group_id=group.id, actor=OWNER)
        clock = Clock()
        await _send_everything(Sender(clock=clock), clock)
        payloads = _verified(created.secret, receiver.requests)
    # The second run changed no one (as the periodic refresh mostly does): it sends nothing.
    assert [p["type"] for p in payloads] == ["group.created", "rule_run.finished", "group.updated", "group.deleted"]
    assert payloads[0]["data"]["group"]["code"] == "ALL"
    assert payloads[1]["data"]["joined"] == 3
    assert payloads[2]["data"]["group"]["description"] == "Every customer with an email"
    assert payloads[3]["data"] == {"group": {"id": group.id, "name": "Everyone", "code": "ALL"}, "released": 3}
    # The members it released are in the outbox too, as they left.
    left = await WebhookEvent.filter(type="member.left", group_id=group.id).count()
    assert left == 3


async def test_with_the_receiver_failing_30_percent_every_event_arrives_once(db):
    ids = await _customers(60)
    with Receiver(fail_share=0.3).running() as receiver:
        created = await create_endpoint(url=receiver.url, events=ALL_EVENTS, actor=OWNER)
        wholesale = await _group("Wholesale", "WHOLESALE")
        clock = Clock()
        sender = Sender(clock=clock)
        for start in range(0, 60, 20):
            await add_members(group_id=wholesale, customer_ids=ids[start : start + 20], mode=AddMode.ADD, actor=OWNER)
            await sender.deliver_due()  # changes keep coming while deliveries fail and are retried
            await remove_members(
                group_id=wholesale, customer_ids=ids[start : start + 5], mode=RemoveMode.REMOVE, actor=OWNER
            )
        await _send_everything(sender, clock)

        failed = [r for r in receiver.requests if r.answered != 200]
        accepted = receiver.accepted()
        assert len(failed) > 20, "the receiver failed often"
        _verified(created.secret, receiver.requests)
        by_id = [r.id for r in accepted]
        assert len(by_id) == len(set(by_id)), "no event was accepted twice"
        assert by_id == await _outbox_ids(ALL_EVENTS), "every event, in order, nothing missing"
    log, total = await list_deliveries(endpoint_id=created.endpoint.id, actor=OWNER, limit=500)
    assert total == len(by_id)
    assert max(d.attempts for d in log) >= 2 and all(d.status == DeliveryStatus.DELIVERED for d in log)


async def test_an_endpoint_failing_for_three_days_is_switched_off_and_says_so(db):
    ids = await _customers(2)
    vip = await _group("VIP Customers", "VIP")
    with Receiver(fail_share=1.0).running() as receiver:
        created = await create_endpoint(url=receiver.url, events=["member.joined"], actor=OWNER)
        await add_members(group_id=vip, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
        clock = Clock()
        sender = Sender(clock=clock)
        started = clock.now
        while (await WebhookEndpoint.get(id=created.endpoint.id)).enabled:
            await sender.deliver_due()
            clock.later(timedelta(minutes=30))
            assert clock.now - started < SWITCH_OFF_AFTER + timedelta(hours=3)
        tries = len(receiver.requests)
    endpoint = await WebhookEndpoint.get(id=created.endpoint.id)
    assert clock.now - started >= SWITCH_OFF_AFTER
    assert endpoint.disabled_reason.startswith("Switched off automatically: every delivery failed from")
    assert "HTTP 500: busy, try again" in endpoint.disabled_reason
    assert 20 < tries < 200, "tried again and again, backing off"
    log, _ = await list_deliveries(endpoint_id=endpoint.id, actor=OWNER)
    assert (log[0].status, log[0].attempts, log[0].status_code) == (DeliveryStatus.FAILED, tries, 500)

    # Switched on again, it goes on with the events it has not received.
    with Receiver().running() as receiver:
        await WebhookEndpoint.filter(id=endpoint.id).update(url=receiver.url)
        await set_enabled(endpoint_id=endpoint.id, enabled=True, actor=OWNER)
        await _send_everything(sender, clock)
        assert [p["data"]["customer"]["id"] for p in _verified(created.secret, receiver.requests)] == ids


def test_retries_back_off_exponentially_with_jitter():
    middle = [retry_delay(n, chance=lambda: 0.5) for n in range(1, 8)]
    assert middle == [timedelta(seconds=s) for s in (5, 10, 20, 40, 80, 160, 320)]
    assert retry_delay(30, chance=lambda: 0.5) == timedelta(hours=1)
    assert retry_delay(3, chance=lambda: 0.0) == timedelta(seconds=15)
    assert retry_delay(3, chance=lambda: 1.0) == timedelta(seconds=25)


async def test_resend_and_a_test_event(db):
    ids = await _customers(2)
    vip = await _group("VIP Customers", "VIP")
    with Receiver().running() as receiver:
        created = await create_endpoint(url=receiver.url, events=["member.joined"], actor=OWNER)
        await add_members(group_id=vip, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
        clock = Clock()
        sender = Sender(clock=clock)
        await _send_everything(sender, clock)
        log, _ = await list_deliveries(endpoint_id=created.endpoint.id, actor=OWNER)
        await resend(delivery_id=log[-1].id, actor=OWNER)
        await send_test_event(endpoint_id=created.endpoint.id, actor=OWNER)
        await _send_everything(sender, clock)
        payloads = _verified(created.secret, receiver.requests)
        assert [r.id for r in receiver.requests][2] == log[-1].event_id, "the same id: receivers skip it"
    assert [p["type"] for p in payloads] == ["member.joined", "member.joined", "member.joined", "webhook.test"]
    assert payloads[3]["data"]["sent_by"] == "olivia"
    log, total = await list_deliveries(endpoint_id=created.endpoint.id, actor=OWNER)
    assert total == 3 and log[-1].attempts == 2 and log[0].event_type == "webhook.test"


async def test_two_senders_at_once_deliver_each_event_once(db):
    ids = await _customers(40)
    with Receiver().running() as a, Receiver().running() as b, Receiver().running() as c:
        endpoints = [await create_endpoint(url=r.url, events=ALL_EVENTS, actor=OWNER) for r in (a, b, c)]
        gold = await _group("Gold Tier", "GOLD")
        await add_members(group_id=gold, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
        await remove_members(group_id=gold, customer_ids=ids[:10], mode=RemoveMode.REMOVE, actor=OWNER)
        first, second = Sender(name="instance-1"), Sender(name="instance-2")

        async def keep_sending(sender: Sender) -> None:
            while await _anything_left():
                await sender.deliver_due()
                await asyncio.sleep(0)

        await asyncio.gather(keep_sending(first), keep_sending(second))
        expected = await _outbox_ids(ALL_EVENTS)
        for receiver, endpoint in zip((a, b, c), endpoints, strict=True):
            _verified(endpoint.secret, receiver.requests)
            assert [r.id for r in receiver.requests] == expected, "each event once, in order"
    assert await WebhookEndpoint.filter(lease_owner__isnull=False).count() == 0


async def test_a_refused_change_writes_no_event(db):
    ids = await _customers(3)
    small = await _group("Small", "SMALL", capacity=2)
    before = await WebhookEvent.all().count()
    with pytest.raises(FormError):
        await add_members(group_id=small, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
    assert await WebhookEvent.all().count() == before


async def test_ten_thousand_members_write_their_events_in_one_statement_set(db):
    ids = await _customers(10_000)
    big = await _group("Newsletter", "NEWS")
    await add_members(group_id=big, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
    assert await WebhookEvent.filter(type="member.joined", group_id=big).count() == 10_000


async def test_old_events_every_endpoint_has_passed_are_pruned(db):
    ids = await _customers(4)
    vip = await _group("VIP Customers", "VIP")
    with Receiver().running() as receiver:
        created = await create_endpoint(url=receiver.url, events=["member.joined"], actor=OWNER)
        await add_members(group_id=vip, customer_ids=ids[:2], mode=AddMode.ADD, actor=OWNER)
        clock = Clock()
        await _send_everything(Sender(clock=clock), clock)
    # Two more the endpoint has not received (its receiver is gone): they stay, however old.
    await add_members(group_id=vip, customer_ids=ids[2:], mode=AddMode.ADD, actor=OWNER)
    later = datetime.now(UTC) + timedelta(days=outbox.KEEP_DAYS + 1)
    assert await outbox.prune(now=later) >= 2
    kept = await WebhookEvent.filter(type="member.joined").values_list("customer_id", flat=True)
    assert sorted(kept) == ids[2:]
    assert await WebhookDelivery.filter(endpoint_id=created.endpoint.id).count() == 0


async def test_an_address_that_is_not_http_is_refused_beside_the_field(db):
    with pytest.raises(FormError) as refused:
        await create_endpoint(url="ftp://shop.example.com/hooks", events=[], actor=OWNER)
    assert refused.value.errors["url"].startswith("Use an address that starts with https://")
    assert refused.value.errors["events"] == "Choose at least one event to send."
    with pytest.raises(FormError) as refused:
        await create_endpoint(url="https://user:pw@shop.example.com/", events=["member.left"], actor=OWNER)
    assert "user name and password" in refused.value.errors["url"]


async def test_the_change_feed_pages_through_joins_leaves_and_moves(db):
    ids = await _customers(7)
    vip = await _group("VIP Customers", "VIP")
    retail = await _group("Retail", "RETAIL")
    await add_members(group_id=vip, customer_ids=ids, mode=AddMode.ADD, actor=OWNER)
    await remove_members(
        group_id=vip, customer_ids=ids[:2], mode=RemoveMode.OTHER_GROUP, target_group_id=retail, actor=OWNER
    )
    seen, cursor = [], None
    while True:
        page = await membership_events(after=cursor, limit=3, actor=OWNER)
        if not page.items:
            break
        seen += page.items
        cursor = page.next
    assert [i["type"] for i in seen] == ["member.joined"] * 7 + ["member.moved"] * 2 + ["member.joined"] * 2
    assert [i["id"] for i in seen] == await _outbox_ids(["member.joined", "member.left", "member.moved"])
    again = await membership_events(after=cursor, limit=3, actor=OWNER)
    assert (again.items, again.next) == ([], cursor), "a caught-up client keeps its cursor"
    with pytest.raises(FormError):
        await membership_events(after="yesterday", limit=3, actor=OWNER)
    assert json.dumps(seen, default=str)


async def test_a_rule_run_is_sent_when_it_changed_members_or_ran_a_new_rule_version(db):
    await _customers(2)
    with Receiver().running() as receiver:
        created = await create_endpoint(url=receiver.url, events=["rule_run.finished"], actor=OWNER)
        rule = {"match": "all", "conditions": [{"field": "email", "op": "contains", "value": "@example.com"}]}
        group = await create_group(
            data={"name": "Everyone", "code": "ALL", "type": "automatic", "rule": rule}, actor=OWNER
        )
        await apply_rule(group_id=group.id, actor=OWNER)  # nothing changes: not sent
        await _customers(1, prefix="Late")
        await apply_rule(group_id=group.id, actor=OWNER)  # Late 0 joins
        detail = await get_group(group_id=group.id)
        data = detail.as_input()
        data.rule = {"match": "all", "conditions": [{"field": "email", "op": "contains", "value": "example"}]}
        await update_group(group_id=group.id, version=detail.version, data=data, actor=OWNER)  # same members
        clock = Clock()
        await _send_everything(Sender(clock=clock), clock)
        payloads = _verified(created.secret, receiver.requests)
    runs = [(p["data"]["rule_version"], p["data"]["joined"]) for p in payloads]
    assert runs == [(1, 2), (1, 1), (2, 0)]


async def test_a_customer_on_two_rungs_leaving_one_is_sent_with_the_rung_kept(db):
    [ana, ben, cy] = await _customers(3)
    await Customer.filter(id=ana).update(lifetime_cents=25_000_00, order_count=1)
    await Customer.filter(id=ben).update(lifetime_cents=10_000_00, order_count=1)
    club = await _group("Club", "CLUB")
    rule = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 20_000_00}]}
    premium = await _group("Premium", "PREMIUM", type="automatic", rule=rule, parent_id=club)
    rule = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 8_000_00}]}
    plus = await _group("Plus", "PLUS", type="automatic", rule=rule, parent_id=club)
    vip = await _group("VIP Customers", "VIP")
    with Receiver().running() as receiver:
        created = await create_endpoint(url=receiver.url, events=["member.left"], description="CRM", actor=OWNER)
        # Ana is on Premium and Plus: the ladder keeps her on Premium, and she leaves Plus for it.
        await make_ladder(parent_id=club, rung_order=[premium, plus], actor=OWNER)
        await add_members(group_id=vip, customer_ids=[cy], mode=AddMode.ADD, actor=OWNER)
        await remove_members(group_id=vip, customer_ids=[cy], mode=RemoveMode.REMOVE, actor=OWNER)

        clock = Clock()
        await _send_everything(Sender(name="one", clock=clock), clock)
        left_plus, left_vip = [p["data"] for p in _verified(created.secret, receiver.requests)]

    assert (left_plus["customer"]["id"], left_plus["group"]["name"]) == (ana, "Plus")
    assert left_plus["kept"] == {"id": premium, "name": "Premium"}
    assert left_plus["reason"] == "On Premium: one rung of Club per customer"
    assert (left_vip["customer"]["id"], "kept" in left_vip) == (cy, False), "out of the group, on no other"
    feed = await membership_events(after=None, limit=100, actor=OWNER)
    assert [i["kept"] for i in feed.items if i["type"] == "member.left" and "kept" in i] == [left_plus["kept"]]

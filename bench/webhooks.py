"""Webhooks out: `python -m bench.webhooks`.

On a scratch SQLite shop of 10,000 customers (built here, in a temporary folder):

1. What the outbox adds to adding 10,000 members by hand (add_members, one action): the same
   action on two fresh copies of the shop, once as it is and once with the outbox's write left out
   (only here, to measure it), best of three each.
2. Delivering the 10,000 membership events that action wrote to a loopback receiver (an HTTP
   server in a thread of this process that answers 200): the app's sender, from the outbox, signed,
   in order, with its delivery log, against the baseline of the same number of signed POSTs of the
   same bodies with httpx, one after the other, without a database.

Prints figures and a verdict against the target (10,000 events delivered in under 60 s); an
over-target figure never fails the run: benchmarks are not part of the pass/fail tests.
"""

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from bench.summary import record
from models.customer import Customer
from models.webhook import WebhookEvent
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database
from services.webhooks import outbox
from services.webhooks.endpoints import create_endpoint
from services.webhooks.payloads import body, event_id
from services.webhooks.sender import Sender
from tests.webhook_receiver import Receiver

MEMBERS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
TARGET_SECONDS = 60.0
ROUNDS = 3
BENCH = SystemActor("bench")


async def _build(path: Path) -> None:
    await open_database(database_url=f"sqlite://{path}")
    try:
        day = datetime(2024, 1, 1, tzinfo=UTC)
        await Customer.bulk_create(
            [Customer(name=f"Customer {i}", email=f"c{i}@example.com", created_at=day) for i in range(MEMBERS)],
            batch_size=2000,
        )
        await create_group(data={"name": "Newsletter", "code": "NEWS"}, actor=BENCH)
    finally:
        await close_database()


async def _add_all(path: Path) -> float:
    """Seconds add_members takes to add every customer to the group, on this copy."""
    await open_database(database_url=f"sqlite://{path}")
    try:
        ids = await Customer.all().order_by("id").values_list("id", flat=True)
        group = (await create_group(data={"name": "Trade Fair", "code": "FAIR"}, actor=BENCH)).id
        started = time.perf_counter()
        await add_members(group_id=group, customer_ids=ids, mode=AddMode.ADD, actor=BENCH)
        return time.perf_counter() - started
    finally:
        await close_database()


async def _without_outbox(path: Path) -> float:
    async def nothing(*args, **kwargs) -> int:
        return 0

    kept = outbox.membership_events
    outbox.membership_events = nothing
    try:
        return await _add_all(path)
    finally:
        outbox.membership_events = kept


async def outbox_cost(folder: Path, shop: Path) -> None:
    with_outbox, without = [], []
    for round_number in range(ROUNDS):
        for times, measure in ((without, _without_outbox), (with_outbox, _add_all)):
            copy = folder / f"copy-{round_number}-{len(times)}-{measure.__name__}.sqlite3"
            shutil.copy(shop, copy)
            times.append(await measure(copy))
    best_with, best_without = min(with_outbox), min(without)
    print(f"Adding {MEMBERS:,} members by hand (add_members, one action), best of {ROUNDS}:")
    print(f"  without the outbox's write   {best_without:6.2f} s   (median {statistics.median(without):.2f} s)")
    print(f"  with it (as the app runs)    {best_with:6.2f} s   (median {statistics.median(with_outbox):.2f} s)")
    print(f"  the outbox adds              {best_with - best_without:+6.2f} s   ({best_with / best_without:.2f}x)")


async def _baseline(receiver: Receiver, secret: str, events: list[WebhookEvent]) -> float:
    """The same bodies, signed the same way, POSTed one after the other with httpx: no database."""
    signer = Webhook(secret)
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.perf_counter()
        for event in events:
            content, message_id, now = body(event), event_id(event.id), datetime.now(UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signer.sign(message_id, now, content),
            }
            answer = await client.post(receiver.url, content=content, headers=headers)
            answer.raise_for_status()
        return time.perf_counter() - started


async def delivery(folder: Path, shop: Path) -> None:
    copy = folder / "delivery.sqlite3"
    shutil.copy(shop, copy)
    await open_database(database_url=f"sqlite://{copy}")
    try:
        with Receiver().running() as baseline_receiver, Receiver().running() as receiver:
            endpoint = await create_endpoint(url=receiver.url, events=["member.joined"], actor=BENCH)
            group = (await create_group(data={"name": "Trade Fair", "code": "FAIR"}, actor=BENCH)).id
            ids = await Customer.all().order_by("id").values_list("id", flat=True)
            await add_members(group_id=group, customer_ids=ids, mode=AddMode.ADD, actor=BENCH)
            events = await WebhookEvent.filter(type="member.joined").order_by("id")
            assert len(events) == MEMBERS

            baseline = await _baseline(baseline_receiver, endpoint.secret, events)
            sender = Sender(name="bench")
            started = time.perf_counter()
            while len(receiver.accepted()) < MEMBERS:
                if not await sender.deliver_due():
                    await asyncio.sleep(0.01)
            sent = time.perf_counter() - started
            await sender.close()
            got = [r.id for r in receiver.accepted()]
            in_order = got == [event_id(e.id) for e in events]
    finally:
        await close_database()
    print(f"Delivering {MEMBERS:,} membership events to a loopback receiver:")
    print(f"  baseline: signed POSTs with httpx, no database  {baseline:6.2f} s   ({MEMBERS / baseline:,.0f}/s)")
    print(
        f"  the app's sender (outbox, lease, delivery log)   {sent:6.2f} s   ({MEMBERS / sent:,.0f}/s, "
        f"{sent / baseline:.2f}x the baseline)"
    )
    print(f"  every event once and in order: {'yes' if in_order else 'NO'}")
    verdict = "within" if sent < TARGET_SECONDS else "OVER"
    print(f"  {verdict} the target of {TARGET_SECONDS:.0f} s for {MEMBERS:,} events")
    record(
        "webhooks",
        "events delivered",
        sent,
        "s",
        scale=f"{MEMBERS:,} events",
        baseline=baseline,
        baseline_is="httpx POSTs, no database",
        target=f"< {TARGET_SECONDS:.0f} s, in order",
        passed=sent < TARGET_SECONDS and in_order,
    )


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    try:
        shop = folder / "shop.sqlite3"
        await _build(shop)
        await outbox_cost(folder, shop)
        await delivery(folder, shop)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())

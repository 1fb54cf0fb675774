"""The background sender: delivers the outbox's events to each endpoint, signed, in order.

- Signed as Standard Webhooks says (the `standardwebhooks` package): headers `webhook-id` (the
  event's id, the same on every try, so receivers drop repeats), `webhook-timestamp` and
  `webhook-signature`. Any 2xx answer is a delivery; anything else, or no answer within
  TIMEOUT, is a failure.
- In order per endpoint: its events go one after the other; a failing one is tried again after an
  exponential backoff with jitter (retry_delay) and the events behind it wait. An endpoint whose
  deliveries have failed for SWITCH_OFF_AFTER is switched off, saying so on the Settings page.
  A resend or a test event the owner asks for goes out first, once.
- One sender per endpoint at a time, among every instance of the app: a sender claims an endpoint
  with a lease (one UPDATE ... WHERE the lease is free or expired, on SQLite and PostgreSQL alike)
  and renews it with each batch it records. Progress is recorded after each batch, and only while
  the lease is still its own: a sender that stops half way (a crash, a lost lease) leaves the
  batch to be sent again. Delivery is at least once; receivers dedupe by `webhook-id`.
"""

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks import Webhook
from tortoise.expressions import Q
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.storage.database import BACKGROUND
from services.storage.sql import insert_rows
from services.webhooks import outbox
from services.webhooks.payloads import body, event_id
from services.wording import date_time

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
TIMEOUT = 10.0  # seconds for one delivery's answer
BATCH = 200  # events sent between two records of progress
BATCH_SECONDS = 15.0  # ... or fewer, well within the lease
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=1)
SWITCH_OFF_AFTER = timedelta(days=3)
ENDPOINTS_AT_ONCE = 8
POLL_SECONDS = 1.0
PRUNE_EVERY = timedelta(hours=1)
ERROR_LENGTH = 300


def retry_delay(attempts: int, *, chance: Callable[[], float] = random.random) -> timedelta:
    """How long after its `attempts`-th failure an event is tried again: 5 s, 10 s, 20 s, ...
    doubling up to an hour, each give or take a quarter, so endpoints that failed together (one
    outage) are not all tried again in the same second."""
    base = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)
    return base * (0.75 + chance() * 0.5)


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str


async def deliver(client: httpx.AsyncClient, *, url: str, signer: Webhook, event: WebhookEvent) -> Attempt:
    """POST one event, signed; what came of it."""
    content = body(event)
    message_id = event_id(event.id)
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "CustomerGroups-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(message_id, now, content),
    }
    try:
        answer = await client.post(url, content=content, headers=headers)
    except httpx.TimeoutException:
        return Attempt(False, None, f"No answer within {TIMEOUT:.0f} seconds.")
    except httpx.HTTPError as error:
        return Attempt(False, None, f"Could not connect: {error or type(error).__name__}"[:ERROR_LENGTH])
    if 200 <= answer.status_code < 300:
        return Attempt(True, answer.status_code, "")
    text = answer.text.strip().replace("\n", " ")
    return Attempt(False, answer.status_code, f"HTTP {answer.status_code}{': ' + text if text else ''}"[:ERROR_LENGTH])


class LostLease(Exception):
    """Another sender took the endpoint over (ours had expired): what this one sent is not recorded."""


class Sender:
    """Delivers for this process. `name` tells senders apart in the leases; `clock` is the time the
    sender goes by (tests move it on by days)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.clock = clock
        self._pruned_at: datetime | None = None

    async def close(self) -> None:
        await self.client.aclose()

    async def run(self, *, poll_seconds: float = POLL_SECONDS) -> None:
        """For the app's lifetime: deliver what is due, prune old events hourly. Errors are logged
        and the loop goes on."""
        while True:
            sent = 0
            try:
                sent = await self.deliver_due()
                await self._prune_if_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Webhook sender %s: a round failed; trying again", self.name)
            if not sent:
                await asyncio.sleep(poll_seconds)

    async def _prune_if_due(self) -> None:
        now = self.clock()
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            if pruned := await outbox.prune(now=now):
                logger.info("Pruned %s webhook events every endpoint has passed", pruned)

    async def deliver_due(self) -> int:
        """One round: every endpoint with something due that no other sender holds; how many
        deliveries were tried."""
        now = self.clock()
        due = await _endpoints_with_work(now)
        gate = asyncio.Semaphore(ENDPOINTS_AT_ONCE)

        async def one(endpoint_id: int) -> int:
            async with gate:
                return await self.work_on(endpoint_id)

        return sum(await asyncio.gather(*(one(e) for e in due)))

    async def work_on(self, endpoint_id: int) -> int:
        """Claim the endpoint, send what is due, let it go; how many deliveries were tried (0 when
        another sender holds it)."""
        if not await self._claim(endpoint_id):
            return 0
        try:
            endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
            if endpoint is None or not endpoint.enabled:
                return 0
            signer = Webhook(endpoint.secret)
            return await self._queued(endpoint, signer) + await self._in_order(endpoint, signer)
        except LostLease:
            logger.warning("Webhook sender %s lost endpoint %s to another sender", self.name, endpoint_id)
            return 0
        finally:
            await self._release(endpoint_id)

    # --- The lease ----------------------------------------------------------------------------

    async def _claim(self, endpoint_id: int) -> bool:
        now = self.clock()
        return bool(
            await WebhookEndpoint.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), id=endpoint_id)
            .filter(enabled=True)
            .update(lease_owner=self.name, lease_until=now + LEASE)
        )

    async def _renew(self, connection, endpoint_id: int) -> None:
        """Inside the transaction that records progress: still ours, for another LEASE."""
        renewed = (
            await WebhookEndpoint.filter(id=endpoint_id, lease_owner=self.name)
            .using_db(connection)
            .update(lease_until=self.clock() + LEASE)
        )
        if not renewed:
            raise LostLease

    async def _release(self, endpoint_id: int) -> None:
        with contextlib.suppress(Exception):  # an expired lease frees itself
            await WebhookEndpoint.filter(id=endpoint_id, lease_owner=self.name).update(
                lease_owner=None, lease_until=None
            )

    # --- Resends and tests --------------------------------------------------------------------

    async def _queued(self, endpoint: WebhookEndpoint, signer: Webhook) -> int:
        queued = await WebhookDelivery.filter(endpoint_id=endpoint.id, status=DeliveryStatus.QUEUED).order_by("id")
        for delivery in queued:
            event = await WebhookEvent.get_or_none(id=delivery.event_id)
            attempt = (
                await deliver(self.client, url=endpoint.url, signer=signer, event=event)
                if event is not None
                else Attempt(False, None, "This event is no longer kept.")
            )
            now = self.clock()
            async with in_transaction(BACKGROUND) as connection:
                await self._renew(connection, endpoint.id)
                await (
                    WebhookDelivery.filter(id=delivery.id)
                    .using_db(connection)
                    .update(
                        status=DeliveryStatus.DELIVERED if attempt.ok else DeliveryStatus.FAILED,
                        attempts=delivery.attempts + 1,
                        status_code=attempt.status_code,
                        last_error=attempt.error,
                        last_tried_at=now,
                        next_try_at=None,
                        **({"delivered_at": now} if attempt.ok else {}),
                    )
                )
        return len(queued)

    # --- The events in order ------------------------------------------------------------------

    async def _in_order(self, endpoint: WebhookEndpoint, signer: Webhook) -> int:
        tried = 0
        started = time.monotonic()
        while time.monotonic() - started < BATCH_SECONDS:
            if endpoint.next_try_at is not None and endpoint.next_try_at > self.clock():
                break
            newest = (await WebhookEvent.annotate(top=Max("id")).first().values_list("top", flat=True)) or 0
            if newest <= endpoint.last_event_id:
                break
            events = (
                await WebhookEvent.filter(
                    id__gt=endpoint.last_event_id,
                    id__lte=newest,
                    endpoint_id__isnull=True,
                    type__in=list(endpoint.events),
                )
                .order_by("id")
                .limit(BATCH)
            )
            sent: list[tuple[WebhookEvent, Attempt, datetime]] = []
            batch_started = time.monotonic()
            for event in events:
                attempt = await deliver(self.client, url=endpoint.url, signer=signer, event=event)
                sent.append((event, attempt, self.clock()))
                if not attempt.ok or time.monotonic() - batch_started > BATCH_SECONDS:
                    break
            tried += len(sent)
            # Every event up to `newest` is passed when all it wanted of them went through.
            whole = len(sent) == len(events) and len(events) < BATCH and all(a.ok for _, a, _ in sent)
            endpoint = await self._record(endpoint, sent, passed_to=newest if whole else None)
            if not sent or not sent[-1][1].ok or not endpoint.enabled:
                break
        return tried

    async def _record(
        self,
        endpoint: WebhookEndpoint,
        sent: list[tuple[WebhookEvent, "Attempt", datetime]],
        *,
        passed_to: int | None,
    ) -> WebhookEndpoint:
        """Write what a batch did to the delivery log and move the endpoint on, if the lease is
        still ours (else nothing of it is kept, and the next holder sends it again)."""
        delivered = [(event, attempt, at) for event, attempt, at in sent if attempt.ok]
        failed = next(((event, attempt, at) for event, attempt, at in sent if not attempt.ok), None)
        known = {
            d.event_id: d
            for d in await WebhookDelivery.filter(endpoint_id=endpoint.id, event_id__in=[e.id for e, _, _ in sent])
        }
        last = delivered[-1][0].id if delivered else endpoint.last_event_id
        position = max(last, passed_to or 0, endpoint.last_event_id)
        changes: dict = {"last_event_id": position}
        if delivered:
            changes.update(next_try_at=None, failing_since=None)
        async with in_transaction(BACKGROUND) as connection:
            await self._renew(connection, endpoint.id)
            new = [
                (endpoint.id, e.id, e.type, DeliveryStatus.DELIVERED, 1, a.status_code, "", at, at)
                for e, a, at in delivered
                if e.id not in known
            ]
            await insert_rows(
                connection,
                WebhookDelivery,
                (
                    "endpoint_id",
                    "event_id",
                    "event_type",
                    "status",
                    "attempts",
                    "status_code",
                    "last_error",
                    "last_tried_at",
                    "delivered_at",
                ),
                new,
            )
            for e, a, at in delivered:
                if e.id in known:
                    await (
                        WebhookDelivery.filter(id=known[e.id].id)
                        .using_db(connection)
                        .update(
                            status=DeliveryStatus.DELIVERED,
                            attempts=known[e.id].attempts + 1,
                            status_code=a.status_code,
                            last_error="",
                            last_tried_at=at,
                            next_try_at=None,
                            delivered_at=at,
                        )
                    )
            if failed is not None:
                changes.update(await self._failure(connection, endpoint, *failed, known.get(failed[0].id)))
            await WebhookEndpoint.filter(id=endpoint.id).using_db(connection).update(**changes)
        for key, value in changes.items():
            setattr(endpoint, key, value)
        return endpoint

    async def _failure(
        self,
        connection,
        endpoint: WebhookEndpoint,
        event: WebhookEvent,
        attempt: Attempt,
        at: datetime,
        delivery: WebhookDelivery | None,
    ) -> dict:
        """Log a failed try of the endpoint's next event; the endpoint's changes: when to try
        again, or switched off after SWITCH_OFF_AFTER of failures."""
        attempts = (delivery.attempts if delivery else 0) + 1
        failing_since = endpoint.failing_since or at
        switch_off = at - failing_since >= SWITCH_OFF_AFTER
        next_try = None if switch_off else at + retry_delay(attempts)
        log = {
            "status": DeliveryStatus.FAILED if switch_off else DeliveryStatus.RETRYING,
            "attempts": attempts,
            "status_code": attempt.status_code,
            "last_error": attempt.error,
            "last_tried_at": at,
            "next_try_at": next_try,
        }
        if delivery is None:
            await WebhookDelivery.create(
                endpoint_id=endpoint.id, event_id=event.id, event_type=event.type, using_db=connection, **log
            )
        else:
            await WebhookDelivery.filter(id=delivery.id).using_db(connection).update(**log)
        if not switch_off:
            return {"next_try_at": next_try, "failing_since": failing_since}
        reason = (
            f"Switched off automatically: every delivery failed from {date_time(failing_since)} "
            f"to {date_time(at)} UTC (last: {attempt.error}). Fix the receiver, then switch it on again: "
            "it goes on with the events it has not received."
        )
        logger.warning("Webhook endpoint %s (%s) switched off: %s", endpoint.id, endpoint.url, attempt.error)
        return {
            "enabled": False,
            "disabled_at": at,
            "disabled_reason": reason,
            "next_try_at": None,
            "failing_since": failing_since,
        }


async def _endpoints_with_work(now: datetime) -> list[int]:
    """Enabled endpoints no sender holds with a resend or test queued, or events after their place
    that are due."""
    newest = (await WebhookEvent.annotate(top=Max("id")).first().values_list("top", flat=True)) or 0
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ready = Q(next_try_at__isnull=True) | Q(next_try_at__lte=now)
    behind = await WebhookEndpoint.filter(free, ready, enabled=True, last_event_id__lt=newest).values_list(
        "id", flat=True
    )
    queued = (
        await WebhookDelivery.filter(status=DeliveryStatus.QUEUED, endpoint__enabled=True)
        .distinct()
        .values_list("endpoint_id", flat=True)
    )
    waiting = await WebhookEndpoint.filter(free, id__in=list(queued)).values_list("id", flat=True) if queued else []
    return sorted(set(behind) | set(waiting))

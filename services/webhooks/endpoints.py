"""The shop's webhook endpoints (owner only: Settings): subscribing an address to events, changing,
switching off and on, deleting; its delivery log, "Resend" and "Send a test event".

A new endpoint's secret is returned once, by create_endpoint; afterwards only its hint is shown.
A new endpoint starts with the events that happen after it is made."""

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from services.errors import FormError, NotFoundError
from services.staff.actor import Acting, Permission, actor_name, allowed, require
from services.staff.audit import record
from services.storage.database import BACKGROUND
from services.webhooks.outbox import test_event
from services.webhooks.payloads import EVENT_TYPES, event_id

URL_MAX = 2000
DESCRIPTION_MAX = 200
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class EndpointRow:
    id: int
    url: str
    description: str
    events: tuple[str, ...]
    secret_hint: str
    enabled: bool
    created_at: datetime
    failing_since: datetime | None
    next_try_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str
    waiting: int  # events it wants that it has not passed yet


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: EndpointRow
    secret: str  # shown once


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    status_code: int | None
    last_error: str
    last_tried_at: datetime | None
    next_try_at: datetime | None
    delivered_at: datetime | None


# --- Checks -----------------------------------------------------------------------------------


def problems(*, url: str, events: list[str], description: str) -> dict[str, str]:
    """What is wrong with an endpoint's fields, field -> message (pure)."""
    found: dict[str, str] = {}
    if message := url_problem(url):
        found["url"] = message
    if not events:
        found["events"] = "Choose at least one event to send."
    elif unknown := [e for e in events if e not in EVENT_TYPES]:
        found["events"] = f"Unknown event: {', '.join(unknown)}. Choose from {', '.join(EVENT_TYPES)}."
    if len(description) > DESCRIPTION_MAX:
        found["description"] = f"Keep the description to {DESCRIPTION_MAX} characters (it has {len(description)})."
    return found


def url_problem(url: str) -> str | None:
    if not url:
        return "Enter the address to send events to, e.g. https://shop.example.com/webhooks."
    if len(url) > URL_MAX:
        return f"Keep the address to {URL_MAX} characters."
    if any(c.isspace() for c in url):
        return "An address has no spaces."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "This is not a web address. Enter one like https://shop.example.com/webhooks."
    if parts.scheme.lower() not in ("http", "https"):
        return "Use an address that starts with https:// (or http://); other kinds cannot receive webhooks."
    if not parts.hostname:
        return "The address needs a host name, e.g. https://shop.example.com/webhooks."
    if parts.username or parts.password:
        return "Leave the user name and password out of the address: deliveries are signed instead."
    return None


def _cleaned(url: str, events: list[str], description: str) -> tuple[str, list[str], str]:
    url, description = url.strip(), description.strip()
    chosen = [e for e in EVENT_TYPES if e in events] + [e for e in dict.fromkeys(events) if e not in EVENT_TYPES]
    if found := problems(url=url, events=chosen, description=description):
        raise FormError(found)
    return url, chosen, description


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: "whsec_" and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_hint(secret: str) -> str:
    return f"{SECRET_PREFIX}…{secret[-4:]}"


# --- Reading ----------------------------------------------------------------------------------


async def _newest_event() -> int:
    return (await WebhookEvent.annotate(top=Max("id")).first().values_list("top", flat=True)) or 0


async def _waiting(endpoint: WebhookEndpoint) -> int:
    return await WebhookEvent.filter(
        id__gt=endpoint.last_event_id, endpoint_id__isnull=True, type__in=list(endpoint.events)
    ).count()


async def _row(endpoint: WebhookEndpoint) -> EndpointRow:
    return EndpointRow(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        events=tuple(endpoint.events),
        secret_hint=endpoint.secret_hint,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
        failing_since=endpoint.failing_since,
        next_try_at=endpoint.next_try_at,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        waiting=await _waiting(endpoint),
    )


async def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if endpoint is None:
        raise NotFoundError("This webhook endpoint was deleted meanwhile.")
    return endpoint


async def list_endpoints(*, actor: Acting) -> list[EndpointRow]:
    await require(actor, Permission.MANAGE_SETTINGS)
    return [await _row(e) for e in await WebhookEndpoint.all().order_by("id")]


async def switched_off_endpoints(*, actor: Acting) -> list[str]:
    """The endpoints the sender switched off (by description, else address), for the owner's notice;
    nobody else is told."""
    if not allowed(actor, Permission.MANAGE_SETTINGS):
        return []
    rows = await WebhookEndpoint.filter(enabled=False).exclude(disabled_reason="").order_by("id")
    return [e.description or e.url for e in rows if e.disabled_reason.startswith("Switched off automatically")]


async def get_endpoint(*, endpoint_id: int, actor: Acting) -> EndpointRow:
    await require(actor, Permission.MANAGE_SETTINGS)
    return await _row(await _endpoint(endpoint_id))


async def list_deliveries(
    *, endpoint_id: int, actor: Acting, limit: int = 50, offset: int = 0
) -> tuple[list[DeliveryRow], int]:
    """The endpoint's delivery log, newest event first (up to `limit`), and how many entries."""
    await require(actor, Permission.MANAGE_SETTINGS)
    query = WebhookDelivery.filter(endpoint_id=endpoint_id)
    rows = await query.order_by("-event_id").offset(offset).limit(limit)
    return [
        DeliveryRow(
            id=d.id,
            event_id=event_id(d.event_id),
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            status_code=d.status_code,
            last_error=d.last_error,
            last_tried_at=d.last_tried_at,
            next_try_at=d.next_try_at,
            delivered_at=d.delivered_at,
        )
        for d in rows
    ], await query.count()


# --- Changing ---------------------------------------------------------------------------------


async def create_endpoint(*, url: str, events: list[str], description: str = "", actor: Acting) -> NewEndpoint:
    """Subscribe an address to `events`; the result carries the signing secret, shown once."""
    await require(actor, Permission.MANAGE_SETTINGS)
    url, events, description = _cleaned(url, events, description)
    secret = new_secret()
    async with in_transaction(BACKGROUND) as connection:
        endpoint = await WebhookEndpoint.create(
            url=url,
            description=description,
            events=events,
            secret=secret,
            secret_hint=secret_hint(secret),
            created_at=datetime.now(UTC),
            created_by=actor_name(actor),
            last_event_id=await _newest_event(),
            using_db=connection,
        )
        await _audit(connection, actor, "webhook.created", endpoint, None, _audited(endpoint))
    return NewEndpoint(endpoint=await _row(endpoint), secret=secret)


async def update_endpoint(
    *, endpoint_id: int, url: str, events: list[str], description: str = "", actor: Acting
) -> EndpointRow:
    await require(actor, Permission.MANAGE_SETTINGS)
    url, events, description = _cleaned(url, events, description)
    async with in_transaction(BACKGROUND) as connection:
        endpoint = await _endpoint(endpoint_id)
        before = _audited(endpoint)
        endpoint.url, endpoint.events, endpoint.description = url, events, description
        await endpoint.save(using_db=connection, update_fields=["url", "events", "description"])
        await _audit(connection, actor, "webhook.updated", endpoint, before, _audited(endpoint))
    return await _row(endpoint)


async def set_enabled(*, endpoint_id: int, enabled: bool, actor: Acting) -> EndpointRow:
    """Switch an endpoint off, or on again: it then goes on from where it stopped, at once."""
    await require(actor, Permission.MANAGE_SETTINGS)
    async with in_transaction(BACKGROUND) as connection:
        endpoint = await _endpoint(endpoint_id)
        before = _audited(endpoint)
        endpoint.enabled = enabled
        endpoint.next_try_at = endpoint.failing_since = None
        if enabled:
            endpoint.disabled_at, endpoint.disabled_reason = None, ""
        else:
            endpoint.disabled_at = datetime.now(UTC)
            endpoint.disabled_reason = f"Switched off by {actor_name(actor)}."
        await endpoint.save(
            using_db=connection,
            update_fields=["enabled", "next_try_at", "failing_since", "disabled_at", "disabled_reason"],
        )
        await _audit(connection, actor, "webhook.updated", endpoint, before, _audited(endpoint))
    return await _row(endpoint)


async def delete_endpoint(*, endpoint_id: int, actor: Acting) -> None:
    await require(actor, Permission.MANAGE_SETTINGS)
    async with in_transaction(BACKGROUND) as connection:
        endpoint = await _endpoint(endpoint_id)
        await WebhookDelivery.filter(endpoint_id=endpoint_id).using_db(connection).delete()
        await endpoint.delete(using_db=connection)
        await _audit(connection, actor, "webhook.deleted", endpoint, _audited(endpoint), None)


async def send_test_event(*, endpoint_id: int, actor: Acting) -> None:
    """Queue a test event for this endpoint alone; the sender sends it next, ahead of the others."""
    await require(actor, Permission.MANAGE_SETTINGS)
    async with in_transaction(BACKGROUND) as connection:
        endpoint = await _endpoint(endpoint_id)
        number = await test_event(connection, endpoint_id=endpoint.id, sent_by=actor_name(actor))
        await WebhookDelivery.create(
            endpoint_id=endpoint.id,
            event_id=number,
            event_type="webhook.test",
            status=DeliveryStatus.QUEUED,
            next_try_at=datetime.now(UTC),
            using_db=connection,
        )


async def resend(*, delivery_id: int, actor: Acting) -> None:
    """Send a delivery's event again, with its own id (receivers that have it already skip it).
    The endpoint's next event in order, failing so far, is tried again at once instead."""
    await require(actor, Permission.MANAGE_SETTINGS)
    now = datetime.now(UTC)
    async with in_transaction(BACKGROUND) as connection:
        delivery = await WebhookDelivery.get_or_none(id=delivery_id).using_db(connection)
        if delivery is None:
            raise NotFoundError("This delivery is no longer in the log.")
        if not await WebhookEvent.exists(id=delivery.event_id):
            raise FormError({"delivery": "This event is no longer kept, so it cannot be sent again."})
        endpoint = await _endpoint(delivery.endpoint_id)
        if delivery.status == DeliveryStatus.RETRYING:
            await WebhookEndpoint.filter(id=endpoint.id).using_db(connection).update(next_try_at=now)
            await WebhookDelivery.filter(id=delivery.id).using_db(connection).update(next_try_at=now)
            return
        await (
            WebhookDelivery.filter(id=delivery.id)
            .using_db(connection)
            .update(status=DeliveryStatus.QUEUED, next_try_at=now)
        )


def _audited(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
    }


async def _audit(connection, actor: Acting, action: str, endpoint: WebhookEndpoint, before, after) -> None:
    await record(
        actor=actor,
        action=action,
        subject_type="settings",
        subject_id=endpoint.id,
        subject_name=endpoint.url,
        before=before,
        after=after,
        connection=connection,
    )

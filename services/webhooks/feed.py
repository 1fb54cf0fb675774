"""The change feed: every join, leave and move in order, a page at a time, for a shop that polls
instead of receiving webhooks. It reads the outbox (services.webhooks.outbox), whose ids are
never seen out of order, so a client that keeps the `next` cursor misses nothing; it reaches back
as far as the outbox keeps events (outbox.KEEP_DAYS at least)."""

from dataclasses import dataclass

from models.webhook import WebhookEvent
from services.errors import FormError
from services.staff.actor import Acting, Permission, require
from services.webhooks.payloads import MEMBER_TYPES, event_id, event_number, member_data

LIMIT_MAX = 1000


@dataclass(frozen=True)
class FeedPage:
    items: list[dict]  # each: id, type, timestamp and the webhook's data
    next: str  # the cursor to ask for the following page with (the last item's id)


async def membership_events(*, after: str | None, limit: int, actor: Acting) -> FeedPage:
    """The joins, leaves and moves after the cursor `after` (from the oldest kept when none), at
    most `limit`."""
    await require(actor, Permission.VIEW)
    number = 0
    if after:
        number = event_number(after.strip())
        if number is None:
            raise FormError({"after": "Pass the `next` cursor of a previous page (e.g. evt_120), or nothing."})
    if not 1 <= limit <= LIMIT_MAX:
        raise FormError({"limit": f"Ask for 1 to {LIMIT_MAX} events at a time."})
    rows = await WebhookEvent.filter(id__gt=number, type__in=list(MEMBER_TYPES)).order_by("id").limit(limit)
    items = [{"id": event_id(e.id), "type": e.type, "timestamp": e.created_at, **member_data(e)} for e in rows]
    return FeedPage(items=items, next=event_id(rows[-1].id) if rows else event_id(number))

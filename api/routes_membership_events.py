"""The change feed: every join, leave and move in order, for a shop that polls instead of
receiving webhooks."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.schemas import MembershipEventsOut
from api.tokens import ApiRoute, CurrentActor
from services.webhooks.feed import LIMIT_MAX, membership_events

router = APIRouter(route_class=ApiRoute, tags=["membership events"])

Cursor = Annotated[
    str | None,
    Query(
        max_length=40,
        description="The `next` of the page before (e.g. evt_120); leave it out to start from the oldest event kept",
    ),
]
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Events per page")]


@router.get("/membership-events", response_model=MembershipEventsOut, operation_id="listMembershipEvents")
async def list_membership_events(actor: CurrentActor, after: Cursor = None, limit: Limit = 100):
    """Joins, leaves and moves after the cursor `after`, oldest first; poll again with `next`."""
    page = await membership_events(after=after, limit=limit, actor=actor)
    return MembershipEventsOut(items=page.items, next=page.next)

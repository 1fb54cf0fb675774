"""What an event says: its type, its id on the wire and its JSON body (Standard Webhooks' shape:
`type`, `timestamp`, `data`). Pure: no database, no network."""

import json
from datetime import UTC, datetime
from typing import Any

from models.webhook import WebhookEvent

MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"
MEMBER_MOVED = "member.moved"
GROUP_CREATED = "group.created"
GROUP_UPDATED = "group.updated"
GROUP_DELETED = "group.deleted"
RULE_RUN_FINISHED = "rule_run.finished"
TEST = "webhook.test"  # "Send a test event": to one endpoint, whatever it subscribed to

MEMBER_TYPES = (MEMBER_JOINED, MEMBER_LEFT, MEMBER_MOVED)
# What an endpoint can subscribe to, in the order the pages list them, with their labels.
EVENT_TYPES = {
    MEMBER_JOINED: "A customer joined a group",
    MEMBER_LEFT: "A customer left a group",
    MEMBER_MOVED: "A customer moved to another group",
    GROUP_CREATED: "A group was created",
    GROUP_UPDATED: "A group was changed",
    GROUP_DELETED: "A group was deleted",
    RULE_RUN_FINISHED: "A group's rule ran",
}
# membership_event.action -> event type; "made primary" is not sent. A move between two rungs of a
# ladder is one member.moved, whichever way it goes.
MEMBER_ACTIONS = {
    "joined": MEMBER_JOINED,
    "left": MEMBER_LEFT,
    "moved": MEMBER_MOVED,
    "moved_up": MEMBER_MOVED,
    "moved_down": MEMBER_MOVED,
}
LADDER_DIRECTIONS = {"moved_up": "up", "moved_down": "down"}

ID_PREFIX = "evt_"


def event_id(number: int) -> str:
    """The event's id as receivers see it (`webhook-id`, the feed's items and cursor)."""
    return f"{ID_PREFIX}{number}"


def event_number(text: str) -> int | None:
    """The outbox id in an event id ("evt_42" or "42"); None when it is not one."""
    digits = text.removeprefix(ID_PREFIX)
    if not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def member_data(event: WebhookEvent) -> dict[str, Any]:
    """A join, leave or move: who, which group, how and why.

    Every member.moved names the group left (`from`) and the group joined (`to`), and `direction`:
    "up" or "down" for a move between two rungs of a ladder (one event, recorded with the rung moved
    to, which is then its `group`; `moved_from` names the rung left), empty for a move by hand (sent
    for the group left, which is its `group`; `moved_to` names the group joined, whose member.joined
    names this one as `moved_from`).

    A member.left names `kept` ({"id", "name"}, as a move's `from`/`to`) when the customer was on more
    than one rung of a ladder: they left this rung and stay on the ladder on that one only. Without
    `kept` they are out of the group (and off its ladder, if it is a rung)."""
    data: dict[str, Any] = {
        "customer": {"id": event.customer_id, "email": event.customer_email, "name": event.customer_name},
        "group": {"id": event.group_id, "name": event.group_name, "code": event.group_code},
        "source": event.source,
        "reason": event.reason or "",
    }
    direction = LADDER_DIRECTIONS.get(event.action or "")
    this = {"id": event.group_id, "name": event.group_name, "code": event.group_code}
    other = {"id": event.other_group_id, "name": event.other_group_name}
    if event.type == MEMBER_MOVED and direction:
        data |= {"moved_from": event.other_group_name, "from": other, "to": this, "direction": direction}
    elif event.type == MEMBER_MOVED:
        data |= {"moved_to": event.other_group_name, "from": this, "to": other, "direction": None}
    elif event.type == MEMBER_JOINED and event.other_group_name:
        data["moved_from"] = event.other_group_name
    elif event.type == MEMBER_LEFT and event.other_group_id is not None:
        data["kept"] = other
    return data


def payload(event: WebhookEvent) -> dict[str, Any]:
    data = member_data(event) if event.type in MEMBER_TYPES else dict(event.data or {})
    return {"id": event_id(event.id), "type": event.type, "timestamp": _moment(event.created_at), "data": data}


def body(event: WebhookEvent) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload(event), separators=(",", ":"), ensure_ascii=False).encode()

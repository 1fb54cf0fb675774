"""Who joined, left, moved and was made primary, when, why and by whom: a group's or a customer's
membership timeline, newest first, filtered and paged in the database."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models.group import CustomerGroup, MembershipAction, MembershipEvent, MembershipSource
from services.paging import Page, page_bounds

# The owner's words for each action, for filters and labels.
ACTION_LABELS = {
    MembershipAction.JOINED: "Joined",
    MembershipAction.LEFT: "Left",
    MembershipAction.MOVED: "Moved",
    MembershipAction.MADE_PRIMARY: "Made primary",
}


@dataclass(frozen=True)
class HistoryRow:
    id: int
    at: datetime
    customer_id: int
    customer_name: str
    group_id: int
    group_name: str
    group_exists: bool
    action: MembershipAction
    source: MembershipSource
    reason: str
    actor: str
    other_group_name: str | None

    @property
    def moved_here(self) -> bool:
        """A join that is the arriving half of a move (its other half is a "moved" event in the old group)."""
        return self.action == MembershipAction.JOINED and bool(self.other_group_name)


def describe(row: HistoryRow) -> str:
    """The event in a shop owner's words, e.g. "Moved from Gold Tier to VIP Customers"."""
    group, other = row.group_name, row.other_group_name
    match row.action:
        case MembershipAction.JOINED if other:
            # The "moved" event in the old group already reads "Moved from ... to ..."; on a
            # customer's timeline both halves show, so this half must not read the same.
            return f"Joined {group} (moved from {other})"
        case MembershipAction.JOINED:
            return f"Joined {group}"
        case MembershipAction.LEFT:
            return f"Left {group}"
        case MembershipAction.MOVED if other:
            return f"Moved from {group} to {other}"
        case MembershipAction.MOVED:
            return f"Moved out of {group}"
        case MembershipAction.MADE_PRIMARY:
            return f"Made {group} their primary group"
    return f"{ACTION_LABELS.get(row.action, str(row.action))} {group}"


def _action_filter(actions: list[MembershipAction]) -> Q:
    """Events of the chosen actions. "Moved" also takes in the arriving half of a move (a join
    that names the group moved from), so a group's timeline shows customers moved into it."""
    condition = Q(action__in=[MembershipAction(a) for a in actions])
    if MembershipAction.MOVED in actions and MembershipAction.JOINED not in actions:
        condition |= Q(action=MembershipAction.JOINED, other_group_name__isnull=False)
    return condition


async def list_history(
    *,
    group_id: int | None = None,
    customer_id: int | None = None,
    actions: list[MembershipAction] | None = None,
    source: MembershipSource | None = None,
    search: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[HistoryRow]:
    """One page of membership events, newest first.

    `search` matches the reason, and the customer's name, company or email on a group's timeline,
    the group's name (or the other group of a move) on a customer's timeline (both when neither is
    given). `since` is inclusive, `until` exclusive. Group and customer come first in the
    (group_id, at) and (customer_id, at) indexes, so a timeline of a group among a million events
    reads only that group's events, already in order."""
    offset, limit = page_bounds(page, per_page)
    query = MembershipEvent.all()
    if group_id is not None:
        query = query.filter(group_id=group_id)
    if customer_id is not None:
        query = query.filter(customer_id=customer_id)
    if actions:
        query = query.filter(_action_filter(actions))
    if source is not None:
        query = query.filter(source=source)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    if text := search.strip():
        matches = Q(reason__icontains=text)
        if customer_id is None:
            matches |= (
                Q(customer__name__icontains=text)
                | Q(customer__company__icontains=text)
                | Q(customer__email__icontains=text)
            )
        if group_id is None:
            matches |= Q(group_name__icontains=text) | Q(other_group_name__icontains=text)
        query = query.filter(matches)
    total = await query.count()
    events = (
        await query.order_by("-at", "-id")
        .offset(offset)
        .limit(limit)
        .values(
            "id",
            "at",
            "customer_id",
            "customer__name",
            "group_id",
            "group_name",
            "action",
            "source",
            "reason",
            "actor",
            "other_group_name",
        )
    )
    group_ids = {e["group_id"] for e in events}
    existing = set(await CustomerGroup.filter(id__in=group_ids).values_list("id", flat=True)) if group_ids else set()
    rows = [
        HistoryRow(
            id=e["id"],
            at=e["at"],
            customer_id=e["customer_id"],
            customer_name=e["customer__name"],
            group_id=e["group_id"],
            group_name=e["group_name"],
            group_exists=e["group_id"] in existing,
            action=MembershipAction(e["action"]),
            source=MembershipSource(e["source"]),
            reason=e["reason"],
            actor=e["actor"],
            other_group_name=e["other_group_name"],
        )
        for e in events
    ]
    return Page(rows=rows, total=total, page=page, per_page=limit)

"""Who joined, left, moved and was made primary, when, why and by whom: a group's or a customer's
membership timeline, newest first, filtered and paged in the database.

A move between two rungs of a ladder is one event, recorded with the rung moved to; the timeline of
the rung left finds it by `other_group_id`, and each timeline words it from where it stands."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models.group import LADDER_MOVES, CustomerGroup, MembershipAction, MembershipEvent, MembershipSource
from services.paging import Page, page_bounds

# The owner's words for each action, for filters and labels.
ACTION_LABELS = {
    MembershipAction.JOINED: "Joined",
    MembershipAction.LEFT: "Left",
    MembershipAction.MOVED: "Moved",
    MembershipAction.MOVED_UP: "Moved up",
    MembershipAction.MOVED_DOWN: "Moved down",
    MembershipAction.MADE_PRIMARY: "Made primary",
}
DIRECTION_WORDS = {MembershipAction.MOVED_UP: "Moved up", MembershipAction.MOVED_DOWN: "Moved down"}


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
    other_group_id: int | None = None
    # The group whose timeline this row is on (None: a customer's timeline), so a ladder move reads
    # "moved up to Gold Tier" on the rung left and "moved up from Silver Tier" on the rung joined.
    seen_from_group_id: int | None = None

    @property
    def is_ladder_move(self) -> bool:
        return self.action in LADDER_MOVES

    @property
    def moved_here(self) -> bool:
        """Shown as a move arriving: the joining half of a move by hand (its other half is a "moved"
        event in the old group), or a move between rungs of a ladder (one event for both rungs)."""
        return self.is_ladder_move or (self.action == MembershipAction.JOINED and bool(self.other_group_name))


def describe(row: HistoryRow) -> str:
    """The event in a shop owner's words, e.g. "Moved from Gold Tier to VIP Customers"."""
    group, other = row.group_name, row.other_group_name
    if row.is_ladder_move:
        way = DIRECTION_WORDS[row.action]
        if row.seen_from_group_id is not None and row.seen_from_group_id == row.other_group_id:
            return f"{way} to {group}"
        if row.seen_from_group_id is not None and row.seen_from_group_id == row.group_id:
            return f"{way} from {other}"
        return f"{way} from {other} to {group}"
    match row.action:
        case MembershipAction.JOINED if other:
            # The "moved" event in the old group already reads "Moved from ... to ..."; on a
            # customer's timeline both halves show, so this half must not read the same.
            return f"Joined {group} (moved from {other})"
        case MembershipAction.JOINED:
            return f"Joined {group}"
        case MembershipAction.LEFT if other:
            # A customer who was on two rungs of a ladder keeps the higher one (services.rules.ladders).
            return f"Left {group} (stays on {other})"
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
    that names the group moved from), so a group's timeline shows customers moved into it, and the
    moves up and down a ladder."""
    chosen = [MembershipAction(a) for a in actions]
    if MembershipAction.MOVED in chosen:
        chosen += [a for a in LADDER_MOVES if a not in chosen]
    condition = Q(action__in=chosen)
    if MembershipAction.MOVED in chosen and MembershipAction.JOINED not in chosen:
        condition |= Q(action=MembershipAction.JOINED, other_group_name__isnull=False)
    return condition


async def _of_group(group_id: int) -> Q:
    """A group's events: those recorded with it, and the ladder moves that left it. The second
    index is asked only for a group that was ever left that way, so other groups' timelines read
    their one index in order."""
    own = Q(group_id=group_id)
    if await MembershipEvent.filter(other_group_id=group_id, action__in=list(LADDER_MOVES)).exists():
        return own | Q(other_group_id=group_id, action__in=list(LADDER_MOVES))
    return own


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
        query = query.filter(await _of_group(group_id))
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
            "other_group_id",
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
            other_group_id=e["other_group_id"],
            seen_from_group_id=group_id,
        )
        for e in events
    ]
    return Page(rows=rows, total=total, page=page, per_page=limit)

"""Making a ladder of a parent group and its subgroups, reordering its rungs, its hold period,
turning it off, and reading it for the pages (services.rules.ladders places the customers).

- Making a ladder of groups whose members overlap (tiers written as separate groups, "Silver"
  from $8,000 also holding the $20,000 customers) first answers a preview (`ladder_preview`): who
  is on more than one rung and where each would end up, and every move. Making it (`make_ladder`)
  sets the order and places everyone in ONE transaction: the overlap is resolved by moves, one
  event each.
- Reordering the rungs runs the ladder again in the same transaction; changing the hold period too.
- Turning a ladder off keeps every member where they are (and the rungs' order, for turning it on
  again): the groups go on as groups, each by its own rule.
- The checks are a pure function of the facts read (`ladder_problems`), each message at its field
  ("ladder", "rung_order", "hold_days"), raised as FormError by the changes and returned by the
  preview, so a page shows them beside the fields before anything is saved.
- A ladder's own group holds nobody: its customers are on its rungs. A parent that holds customers
  of its own is not made a ladder until the owner has moved them (to its rungs, or out): dropping
  them silently would end hand placements nobody meant to end, and those matching no rung would
  leave the tiers altogether. Nor is a rule-based parent (its rule would put customers back) or the
  shop's default group ("Move to default group" moves customers into it by hand).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.group import (
    LADDER_MOVES,
    RULE_TYPES,
    CustomerGroup,
    GroupStatus,
    GroupType,
    Membership,
    MembershipEvent,
)
from services.errors import FormError, NotFoundError
from services.membership.books import one_at_a_time_if_one_group
from services.rules.explainer import now_for_rules
from services.rules.ladders import (
    LadderRun,
    RungPlace,
    Shift,
    preview_ladder,
    read_ladder,
    run_id_at,
    run_in,
    rung_order,
    rung_places,
)
from services.staff.actor import Acting, Permission, actor_name, require
from services.staff.audit import record
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND
from services.storage.sql import sized_for_bulk
from services.webhooks import outbox
from services.wording import count

MAX_HOLD_DAYS = 3650
MIN_RUNGS = 2
NAMED_MEMBERS = 3  # of the parent's own members, named in the refusal; the rest counted


# --- Checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderFacts:
    """What the checks of a ladder change need to know about the parent group."""

    parent_id: int
    name: str
    is_ladder: bool
    children: dict[int, str]  # subgroup id -> name
    type: GroupType = GroupType.MANUAL
    is_default: bool = False
    members: int = 0  # customers in the parent group itself
    member_names: tuple[str, ...] = ()  # the first few of them, by name


def ladder_problems(
    facts: LadderFacts, *, rung_order: Sequence[int] | None, hold_days: int | None, making: bool
) -> dict[str, str]:
    """Why the ladder change cannot be made, each at its field; empty when it can. `rung_order`:
    the subgroups' ids, top rung first (None: not changed); `making`: turning the group into a ladder
    (else changing one)."""
    problems: dict[str, str] = {}
    name = facts.name
    if making and facts.is_ladder:
        problems["ladder"] = f"{name} is a ladder already: change the order of its rungs instead."
    elif not making and not facts.is_ladder:
        problems["ladder"] = f"{name} is not a ladder: make it one first."
    elif not facts.children:
        problems["ladder"] = f"{name} has no subgroups. Add the tiers as its subgroups, then make it a ladder."
    elif len(facts.children) < MIN_RUNGS:
        only = next(iter(facts.children.values()))
        problems["ladder"] = f"{name} has one subgroup ({only}): a ladder needs at least {MIN_RUNGS} rungs."
    elif making and (problem := _own_members_problem(facts)):
        problems["ladder"] = problem
    ordering = rung_order is not None and facts.children and "ladder" not in problems
    if ordering and (problem := _order_problem(facts, rung_order)):
        problems["rung_order"] = problem
    if hold_days is not None and not 1 <= hold_days <= MAX_HOLD_DAYS:
        problems["hold_days"] = f"A hold lasts 1 to {MAX_HOLD_DAYS:,} days; leave it empty for none."
    return problems


def _own_members_problem(facts: LadderFacts) -> str | None:
    """Why the parent cannot become a ladder's own group, which holds nobody (see the notes)."""
    name = facts.name
    if facts.is_default:
        return (
            f'{name} is the shop\'s default group, into which "Move to default group" moves customers, and a '
            "ladder takes nobody by hand. Choose another default group in Settings first."
        )
    if facts.type in RULE_TYPES:
        return (
            f"{name} is {facts.type.value}: its rule puts customers in it, but a ladder's customers are on its "
            f"rungs, not in {name} itself. Make it a manual group first."
        )
    if facts.members:
        named = ", ".join(facts.member_names)
        more = facts.members - len(facts.member_names)
        if more > 0:
            named += f" and {more:,} more"
        return (
            f"{name} itself holds {count(facts.members, 'customer')} ({named}), but a ladder's customers are on "
            f"its rungs, one each, not in {name} itself. Move them first: on {name}'s page, tick them and choose "
            '"Remove from Group" (to one of its rungs with "Move to specific group"), then make it a ladder.'
        )
    return None


def _order_problem(facts: LadderFacts, order: Sequence[int]) -> str | None:
    strangers = [gid for gid in order if gid not in facts.children]
    if strangers:
        return f"Only subgroups of {facts.name} can be its rungs (group {strangers[0]} is not one)."
    twice = [gid for gid in dict.fromkeys(order) if list(order).count(gid) > 1]
    if twice:
        return f"Each subgroup is one rung: {facts.children[twice[0]]} is listed more than once."
    missing = [name for gid, name in facts.children.items() if gid not in order]
    if missing:
        return (
            f"Put every subgroup of {facts.name} on the ladder, top rung first: {', '.join(sorted(missing))} missing."
        )
    return None


async def _facts(parent_id: int, connection: BaseDBAsyncClient | None = None) -> LadderFacts:
    parent = await CustomerGroup.get_or_none(id=parent_id).using_db(connection)
    if parent is None:
        raise NotFoundError(f"There is no group with id {parent_id}.")
    children = await CustomerGroup.filter(parent_id=parent_id).using_db(connection).values_list("id", "name")
    own = Membership.filter(group_id=parent_id).using_db(connection)
    members = await own.count()
    names = (
        await own.order_by("customer__name", "customer_id")
        .limit(NAMED_MEMBERS)
        .values_list("customer__name", flat=True)
        if members
        else []
    )
    return LadderFacts(
        parent.id,
        parent.name,
        parent.is_ladder,
        dict(children),
        type=GroupType(parent.type),
        is_default=parent.is_default,
        members=members,
        member_names=tuple(names),
    )


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RungView:
    group_id: int
    name: str
    position: int  # 1 is the top
    type: GroupType
    status: GroupStatus
    members: int
    by_rule: bool  # False: a manual, inactive or broken rung, whose members stay where they are


@dataclass(frozen=True)
class LadderView:
    """A parent group as a ladder (or one that could be made one): its rungs top first with their
    member counts, and the moves of its last run, for the hierarchy and group pages."""

    group_id: int
    name: str
    is_ladder: bool
    hold_days: int | None
    rungs: tuple[RungView, ...]
    last_run_at: datetime | None
    last_moves: tuple[Shift, ...]  # counted by way (up, down) and rungs; joins and leaves too


async def get_ladder(*, group_id: int) -> LadderView:
    """The group and its subgroups as a ladder's rungs, in the ladder's order (a group that is not a
    ladder: its subgroups in the order they would take). NotFoundError for no such group."""
    ladder = await read_ladder(parent_id=group_id)
    parent = await CustomerGroup.get(id=group_id)
    rungs = tuple(
        RungView(r.group_id, r.name, r.position, r.type, r.status, r.member_count, r.by_rule) for r in ladder.rungs
    )
    ran = [
        at
        for at in await CustomerGroup.filter(id__in=ladder.group_ids).values_list("rule_ran_at", flat=True)
        if at is not None
    ]
    last = max(ran, default=None) if parent.is_ladder else None
    return LadderView(
        group_id=group_id,
        name=parent.name,
        is_ladder=parent.is_ladder,
        hold_days=parent.hold_days,
        rungs=rungs,
        last_run_at=last,
        last_moves=await _moves_at(ladder.group_ids, {r.group_id: r.name for r in ladder.rungs}, last) if last else (),
    )


async def _moves_at(group_ids: list[int], names: dict[int, str], at: datetime) -> tuple[Shift, ...]:
    """The shifts the run at `at` recorded on these rungs, from their events: those carrying its id,
    as another run or a settle in the same second recorded events at the same moment."""
    run_id = await run_id_at(group_ids=group_ids, at=at)
    events = MembershipEvent.filter(group_id__in=group_ids, at=at)
    rows = (
        await (events.filter(run_id=run_id) if run_id else events)
        .exclude(action="made_primary")
        .values_list("group_id", "other_group_id", "action")
    )
    counts: dict[tuple, int] = {}
    for group_id, other_id, action in rows:
        if action in LADDER_MOVES:
            key = (other_id, group_id, "up" if action == "moved_up" else "down")
        elif action == "joined":
            key = (None, group_id, "join")
        elif action == "left":  # naming another rung: left this one, on that one only
            key = (group_id, other_id, "leave")
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    return tuple(
        Shift(start, names.get(start), end, names.get(end), way, n)
        for (start, end, way), n in sorted(counts.items(), key=lambda item: str(item[0]))
    )


@dataclass(frozen=True)
class CustomerStanding:
    """Where a customer stands on one ladder, for the customer's page."""

    ladder_id: int
    ladder_name: str
    group_id: int
    rung_name: str
    position: int
    rungs: int
    pinned: bool  # placed by hand: no rule moves them until taken off
    held_until: datetime | None  # below this rung, kept on it until then


async def customer_ladders(*, customer_id: int) -> list[CustomerStanding]:
    """The ladders the customer is on, with their rung, whether they are pinned there, and until
    when a hold keeps them on it."""
    places = await rung_places()
    rows = (
        await Membership.filter(customer_id=customer_id, group_id__in=list(places))
        .order_by("group_id")
        .values_list("group_id", "group__name", "group__type", "source", "held_until")
    )
    return [
        CustomerStanding(
            ladder_id=places[gid].ladder_id,
            ladder_name=places[gid].ladder_name,
            group_id=gid,
            rung_name=name,
            position=places[gid].position,
            rungs=places[gid].rungs,
            pinned=kind == GroupType.MANUAL or source in ("manual", "both"),
            held_until=held,
        )
        for gid, name, kind, source, held in rows
    ]


# --- Previewing and changing ------------------------------------------------------------------


@dataclass(frozen=True)
class LadderPreview:
    """What making (or reordering) the ladder would do: the problems that stop it, or else every
    move and who is on more than one rung now, and where each would end up (`run.overlap`)."""

    problems: dict[str, str]
    run: LadderRun | None


async def ladder_preview(
    *, parent_id: int, rung_order: Sequence[int], hold_days: int | None = None, actor: Acting
) -> LadderPreview:
    """Making `parent_id` a ladder with these rungs (top first), or a ladder's new order, without
    changing anything. Read-only, on the reader connection."""
    await require(actor, Permission.VIEW)
    facts = await _facts(parent_id)
    if problems := ladder_problems(facts, rung_order=rung_order, hold_days=hold_days, making=not facts.is_ladder):
        return LadderPreview(problems, None)
    ladder = await read_ladder(parent_id=parent_id, order=rung_order)
    if hold_days is not None or not facts.is_ladder:
        ladder = replace(ladder, hold_days=hold_days)
    return LadderPreview({}, await preview_ladder(ladder=ladder, overlap=True))


async def _require_changes(actor: Acting) -> None:
    # A ladder moves members as a rule run does: both permissions.
    await require(actor, Permission.MANAGE_GROUPS)
    await require(actor, Permission.MANAGE_RULES)


def _snapshot(is_ladder: bool, hold_days: int | None, names: Sequence[str]) -> dict:
    return {"ladder": is_ladder, "hold_days": hold_days, "rungs": list(names)}


async def _write_order(connection: BaseDBAsyncClient, order: Sequence[int]) -> None:
    for position, gid in enumerate(order, start=1):
        await CustomerGroup.filter(id=gid).using_db(connection).update(rung=position)


async def _order_now(connection: BaseDBAsyncClient, parent_id: int) -> list[str]:
    rows = await CustomerGroup.filter(parent_id=parent_id).using_db(connection).values_list("id", "name", "rung")
    names = {gid: name for gid, name, _ in rows}
    return [names[gid] for gid in rung_order(rows)]


@retried_on_conflict
async def _change(
    *,
    parent_id: int,
    actor: Acting,
    making: bool,
    rung_order: Sequence[int] | None,
    hold_days: int | None,
    set_hold: bool,
    now: datetime | None,
) -> LadderRun:
    """One transaction: check the facts as they are inside it, write the ladder's settings, place
    everyone, keep the audit entry and tell the webhooks."""
    now = now or now_for_rules()
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        await sized_for_bulk(connection)  # it places everyone, as a ladder run does
        facts = await _facts(parent_id, connection)
        parent = await CustomerGroup.get(id=parent_id).using_db(connection)
        hold = hold_days if set_hold else parent.hold_days
        if problems := ladder_problems(facts, rung_order=rung_order, hold_days=hold, making=making):
            raise FormError(problems)
        before = _snapshot(parent.is_ladder, parent.hold_days, await _order_now(connection, parent_id))
        await (
            CustomerGroup.filter(id=parent_id)
            .using_db(connection)
            .update(is_ladder=True, hold_days=hold, version=F("version") + 1, updated_at=datetime.now(UTC))
        )
        if rung_order is not None:
            await _write_order(connection, rung_order)
        run = await run_in(connection, ladder_id=parent_id, actor=actor_name(actor), now=now)
        after = _snapshot(True, hold, await _order_now(connection, parent_id))
        await record(
            actor=actor,
            action="group.updated",
            subject_type="group",
            subject_id=parent_id,
            subject_name=facts.name,
            before=before,
            after=after,
            connection=connection,
        )
        await outbox.group_updated(connection, group_id=parent_id)
    return run


async def make_ladder(
    *,
    parent_id: int,
    rung_order: Sequence[int],
    hold_days: int | None = None,
    actor: Acting,
    now: datetime | None = None,
) -> LadderRun:
    """Make the group a ladder of its subgroups, `rung_order` top first, with an optional hold
    period in days, and place every customer on it (customers on several rungs move to one, an event
    per move), all in one transaction. FormError ("ladder", "rung_order", "hold_days") changes nothing."""
    await _require_changes(actor)
    return await _change(
        parent_id=parent_id,
        actor=actor,
        making=True,
        rung_order=list(rung_order),
        hold_days=hold_days,
        set_hold=True,
        now=now,
    )


async def reorder_rungs(
    *, ladder_id: int, rung_order: Sequence[int], actor: Acting, now: datetime | None = None
) -> LadderRun:
    """Put the ladder's rungs in this order (top first) and run the ladder again, in one transaction."""
    await _require_changes(actor)
    return await _change(
        parent_id=ladder_id,
        actor=actor,
        making=False,
        rung_order=list(rung_order),
        hold_days=None,
        set_hold=False,
        now=now,
    )


async def set_hold_days(
    *, ladder_id: int, hold_days: int | None, actor: Acting, now: datetime | None = None
) -> LadderRun:
    """Change the ladder's hold period (None: no hold; those held move down at once) and run it."""
    await _require_changes(actor)
    return await _change(
        parent_id=ladder_id,
        actor=actor,
        making=False,
        rung_order=None,
        hold_days=hold_days,
        set_hold=True,
        now=now,
    )


@retried_on_conflict
async def turn_off_ladder(*, ladder_id: int, actor: Acting) -> LadderView:
    """The group is no longer a ladder: every member stays where they are, each group goes on by
    its own rule (and the rungs keep their order, should it be made a ladder again)."""
    await _require_changes(actor)
    async with in_transaction(BACKGROUND) as connection:
        facts = await _facts(ladder_id, connection)
        if not facts.is_ladder:
            raise FormError({"ladder": f"{facts.name} is not a ladder."})
        parent = await CustomerGroup.get(id=ladder_id).using_db(connection)
        order = await _order_now(connection, ladder_id)
        await (
            CustomerGroup.filter(id=ladder_id)
            .using_db(connection)
            .update(is_ladder=False, version=F("version") + 1, updated_at=datetime.now(UTC))
        )
        await (
            Membership.filter(group_id__in=list(facts.children), held_until__not_isnull=True)
            .using_db(connection)
            .update(held_until=None)
        )
        await record(
            actor=actor,
            action="group.updated",
            subject_type="group",
            subject_id=ladder_id,
            subject_name=facts.name,
            before=_snapshot(True, parent.hold_days, order),
            after=_snapshot(False, parent.hold_days, order),
            connection=connection,
        )
        await outbox.group_updated(connection, group_id=ladder_id)
    return await get_ladder(group_id=ladder_id)


async def rung_of(*, group_id: int) -> RungPlace | None:
    """The ladder the group is a rung of, and where on it (for the group page); None if it is none."""
    return (await rung_places()).get(group_id)

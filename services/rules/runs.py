"""Membership from rules: setting a rule-based group's members to what its rule matches.

An automatic group's members are exactly the rule's matches. A hybrid group's members are the
rule's matches minus its exclusions, plus its manual members: a manual member the rule also
matches has source "both"; when the rule stops matching them they stay, as "manual".

Why it is built this way:

- Set-based. The rule's compiled, parameterised SELECT fills a temporary table of matching ids;
  joiners and leavers are then a few INSERT ... SELECT / DELETE ... WHERE customer_id IN (...)
  statements over sets of ids. No Python loop touches one customer at a time, so 100,000 members
  cost a handful of statements, not 100,000 round trips.
- One transaction per group, on the background connection, so page reads on "default" go on
  meanwhile (SQLite WAL). On SQLite it holds the write lock from its start (services.storage.sqlite_writers);
  on PostgreSQL its first statement locks the group's row.
- Every join and leave writes a MembershipEvent (source "rule", the rule version in the reason)
  in the same transaction: the members and their history change together or not at all.
- Inactive groups are not re-evaluated: their members stay as they were when the group was
  switched off, and are brought up to date when it is switched on again. A manual group has no
  rule; a group changed to manual keeps its members as they are.
- Groups whose rules read "Member of Group" are run after the groups they read, so one pass
  leaves every group consistent with the others.
- Blocked customers never join a group by rule (nor by hand); members who are blocked later stay
  until the rule stops matching them, like everyone else.
- A group's capacity holds for rule runs too: a run fills the free places and turns the other new
  matches away, counting them in the run's `turned_away`. A capacity is the owner's promise about
  the group's size (limited places, a benefit budget), which letting matches overflow it would
  silently break; refusing the whole run instead would leave every other member stale. The free
  places go to the matches with the lowest customer ids (the longest-standing customers), so
  repeated runs make the same choice and members do not churn: those inside stay while the rule
  matches them, and a place that frees up goes to the next match on the next run.
- A customer who joins by rule gets the group as primary only when they have no primary group;
  one who leaves their primary group by rule gets their newest remaining group as primary.
  With "one group per customer" on, a customer already in another group does not join by rule:
  they stay where they are (in a full run, the group that runs first keeps them).
- Each run sets the group's member count in the same transaction (services.membership.changes.recount).
- A rung of a ladder is never run alone (services.rules.ladders): applying its rule runs its whole
  ladder, which keeps every customer on one rung; a full run runs each ladder once, ordered with the
  other groups as one unit (after the groups any rung reads, before those that read any rung).
"""

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus
from models.group import (
    LADDER_MOVES,
    RULE_TYPES,
    CustomerGroup,
    GroupStatus,
    GroupType,
    Membership,
    MembershipAction,
    MembershipEvent,
    MembershipExclusion,
    MembershipSource,
)
from services.errors import FormError, NotFoundError
from services.membership.books import one_at_a_time_if_one_group, recount
from services.rules.compiler import to_q
from services.rules.explainer import evaluate, load_facts, now_for_rules
from services.rules.ladders import (
    CustomerRef,
    LadderRun,
    ladder_ids_by_rung,
    new_run_id,
    run_ladder,
    settle_customers,
)
from services.rules.model import RuleError, group_ids_read, parse_rule
from services.staff.actor import SYSTEM, Acting, Permission, actor_name, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND
from services.storage.sql import execute, fetch_rows, sized_for_bulk
from services.webhooks import outbox

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 5
# Scratch tables of customer ids, private to the background connection's session.
MATCHES, JOINING, LEAVING = "rule_run_match", "rule_run_join", "rule_run_leave"
# NOT EXISTS, never NOT IN (SELECT ...): PostgreSQL runs NOT IN over a subquery larger than
# work_mem as a scan of it per row (a rule run moving 500k members would take hours); NOT EXISTS is
# an anti-join on both databases. tests/unit/test_not_exists_agreement.py holds the NOT IN forms.
# The matches who are not members of the group (?) yet.
_NEW_MATCHES = (
    f"SELECT x.customer_id FROM {MATCHES} x "
    "WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.group_id = ? AND m.customer_id = x.customer_id)"
)
# A membership row the rule does not match.
_UNMATCHED = f"NOT EXISTS (SELECT 1 FROM {MATCHES} x WHERE x.customer_id = membership.customer_id)"
# All but the first ? joiners by id: everyone from the first id past the free places on (ids are
# distinct, the table's key; with no one past them the comparison is NULL and deletes nobody).
_PAST_CAPACITY = (
    f"DELETE FROM {JOINING} WHERE customer_id >= "
    f"(SELECT customer_id FROM {JOINING} ORDER BY customer_id LIMIT 1 OFFSET ?)"
)


@dataclass(frozen=True)
class RuleRun:
    """What one run of a group's rule changed."""

    group_id: int
    group_name: str
    version: int  # the rule version that ran
    joined: int
    left: int
    members: int  # after the run
    ran_at: datetime
    joined_sample: tuple[CustomerRef, ...] = ()  # a few of those who joined, by name
    left_sample: tuple[CustomerRef, ...] = ()
    turned_away: int = 0  # new matches not added because the group was full
    capacity: int | None = None
    # For a rung of a ladder: the ladder's run this rung's figures come from (joined and left then
    # count moves from and to the other rungs too).
    ladder: LadderRun | None = None

    @property
    def changed(self) -> bool:
        return bool(self.joined or self.left)


@dataclass(frozen=True)
class CustomerRuleChanges:
    """The rule-based groups one customer joined and left on re-evaluation, by name."""

    customer_id: int
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()


# --- Scratch tables ---------------------------------------------------------------------------


async def _scratch_tables(connection: BaseDBAsyncClient) -> None:
    """Empty temporary tables of customer ids. They live in the connection's own session (SQLite's
    temp schema, PostgreSQL's pg_temp), so no other connection sees or blocks on them."""
    for table in (MATCHES, JOINING, LEAVING):
        extra = ", was_primary BOOLEAN NOT NULL" if table == LEAVING else ""
        await execute(connection, f"CREATE TEMP TABLE IF NOT EXISTS {table} (customer_id INTEGER PRIMARY KEY{extra})")
        await execute(connection, f"DELETE FROM {table}")


async def _fill_matches(connection: BaseDBAsyncClient, rule: dict, *, now: datetime) -> None:
    """The rule's matches into MATCHES, as one INSERT ... SELECT of the compiled query.

    The statement carries only the compiler's own parameters, in its own placeholder style."""
    query = Customer.filter(to_q(parse_rule(rule), now=now)).using_db(connection).values_list("id", flat=True)
    query._choose_db_if_not_chosen()
    query._make_query()
    select, params = query.query.get_parameterized_sql()
    await connection.execute_query(f"INSERT INTO {MATCHES} (customer_id) {select}", list(params))


async def _sample(connection: BaseDBAsyncClient, table: str) -> tuple[CustomerRef, ...]:
    rows = await fetch_rows(
        connection,
        f"SELECT c.id, c.name FROM {table} t JOIN customer c ON c.id = t.customer_id ORDER BY c.name, c.id LIMIT ?",
        SAMPLE_SIZE,
    )
    return tuple(CustomerRef(id=row["id"], name=row["name"]) for row in rows)


@dataclass(frozen=True)
class _Group:
    id: int
    name: str
    type: GroupType
    status: GroupStatus
    rule: dict | None
    rule_version: int
    capacity: int | None = None


async def _lock_group(connection: BaseDBAsyncClient, group_id: int) -> _Group:
    """Touch the group's row with a harmless write, which also says whether it still exists (and on
    PostgreSQL locks the row; SQLite's transaction holds the write lock already), then read the
    group as it now is."""
    if not await execute(connection, "UPDATE customer_group SET rule_ran_at = rule_ran_at WHERE id = ?", group_id):
        raise NotFoundError("This group was deleted meanwhile.")
    group = await CustomerGroup.filter(id=group_id).using_db(connection).first()
    assert group is not None  # we hold the write lock: nobody deleted it since the UPDATE
    return _Group(group.id, group.name, group.type, group.status, group.rule, group.rule_version, group.capacity)


def _runnable(group: _Group) -> None:
    if group.type not in RULE_TYPES or not group.rule:
        raise FormError({"rule": f"{group.name} is a manual group: it has no rule to run."})
    if group.status != GroupStatus.ACTIVE:
        raise FormError({"status": f"{group.name} is inactive: its members stay as they are until it is active again."})


async def _set_members(
    connection: BaseDBAsyncClient,
    group: _Group,
    *,
    actor: str,
    now: datetime,
    run_id: str,
    customer_id: int | None = None,
) -> tuple[int, int, int]:
    """Bring the group's members in line with MATCHES, as far as its capacity allows; (joined, left,
    turned away because the group was full).

    With `customer_id`, only that customer's membership is considered (MATCHES then holds at
    most them); otherwise every member. Runs inside the caller's transaction."""
    rule_source, manual, both = MembershipSource.RULE.value, MembershipSource.MANUAL.value, MembershipSource.BOTH.value
    scope, scope_params = (" AND customer_id = ?", (customer_id,)) if customer_id is not None else ("", ())
    hybrid = group.type == GroupType.HYBRID
    if hybrid:
        await execute(
            connection,
            f"DELETE FROM {MATCHES} WHERE customer_id IN "
            "(SELECT customer_id FROM membership_exclusion WHERE group_id = ?)",
            group.id,
        )
    await execute(
        connection,
        f"INSERT INTO {JOINING} (customer_id) {_NEW_MATCHES}",
        group.id,
    )
    if await fetch_rows(connection, "SELECT 1 FROM shop WHERE one_group_per_customer = ?", True):
        # One group per customer: whoever is in another group stays there (first group wins).
        await execute(
            connection,
            f"DELETE FROM {JOINING} WHERE customer_id IN (SELECT customer_id FROM membership WHERE group_id <> ?)",
            group.id,
        )
    await execute(
        connection,
        f"DELETE FROM {JOINING} WHERE EXISTS "
        f"(SELECT 1 FROM customer c WHERE c.id = {JOINING}.customer_id AND c.status = ?)",
        CustomerStatus.BLOCKED.value,
    )
    # A hybrid group's manual members stay whatever the rule says; an automatic group keeps no one
    # the rule does not match (a group just changed from hybrid may still have manual members).
    only_rule = " AND source = ?" if hybrid else ""
    await execute(
        connection,
        f"INSERT INTO {LEAVING} (customer_id, was_primary) SELECT customer_id, is_primary FROM membership "
        f"WHERE group_id = ?{only_rule}{scope} "
        f"AND {_UNMATCHED}",
        group.id,
        *((rule_source,) if hybrid else ()),
        *scope_params,
    )
    if hybrid:
        await execute(
            connection,
            f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ?{scope} "
            f"AND customer_id IN (SELECT customer_id FROM {MATCHES})",
            both,
            group.id,
            manual,
            *scope_params,
        )
        await execute(
            connection,
            f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ?{scope} AND {_UNMATCHED}",
            manual,
            group.id,
            both,
            *scope_params,
        )
    else:
        await execute(
            connection,
            f"UPDATE membership SET source = ? WHERE group_id = ? AND source <> ?{scope} "
            f"AND customer_id IN (SELECT customer_id FROM {MATCHES})",
            rule_source,
            group.id,
            rule_source,
            *scope_params,
        )

    reason = f"Rule version {group.rule_version}"
    event = (
        "INSERT INTO membership_event (customer_id, group_id, group_name, action, source, reason, actor, at, run_id) "
        "SELECT customer_id, ?, ?, ?, ?, ?, ?, ?, ? FROM {table}"
    )
    left = await execute(
        connection,
        event.format(table=LEAVING),
        group.id,
        group.name,
        MembershipAction.LEFT.value,
        rule_source,
        reason,
        actor,
        now,
        run_id,
    )
    await execute(
        connection,
        f"DELETE FROM membership WHERE group_id = ? AND customer_id IN (SELECT customer_id FROM {LEAVING})",
        group.id,
    )
    turned_away = await _keep_to_capacity(connection, group)
    # Whoever lost their primary group here gets their newest remaining group as primary (a
    # customer moving from Silver to Gold keeps a primary group, whichever tier runs first) ...
    await execute(
        connection,
        "UPDATE membership SET is_primary = ? WHERE id IN (SELECT (SELECT m.id FROM membership m "
        "WHERE m.customer_id = l.customer_id ORDER BY m.since DESC, m.id DESC LIMIT 1) "
        f"FROM {LEAVING} l WHERE l.was_primary)",
        True,
    )
    # ... and a joiner without a primary group gets this one. The flag is computed before the
    # INSERT can see its own rows.
    await execute(
        connection,
        "INSERT INTO membership (customer_id, group_id, source, is_primary, since) "
        "SELECT j.customer_id, ?, ?, NOT EXISTS "
        "(SELECT 1 FROM membership p WHERE p.customer_id = j.customer_id AND p.is_primary), ? "
        f"FROM {JOINING} j",
        group.id,
        rule_source,
        now,
    )
    joined = await execute(
        connection,
        event.format(table=JOINING),
        group.id,
        group.name,
        MembershipAction.JOINED.value,
        rule_source,
        reason,
        actor,
        now,
        run_id,
    )
    await recount(connection, [group.id])
    await outbox.membership_events(connection, group_ids=[group.id], at=now)
    return joined, left, turned_away


async def _keep_to_capacity(connection: BaseDBAsyncClient, group: _Group) -> int:
    """Leave in JOINING only as many as the group has free places for, lowest customer ids first
    (see the module's notes); how many were turned away. Runs after the leavers left."""
    if group.capacity is None:
        return 0
    members = (await fetch_rows(connection, "SELECT COUNT(*) AS n FROM membership WHERE group_id = ?", group.id))[0]
    joining = (await fetch_rows(connection, f"SELECT COUNT(*) AS n FROM {JOINING}"))[0]
    free = max(group.capacity - members["n"], 0)
    if joining["n"] <= free:
        return 0
    return await execute(connection, _PAST_CAPACITY, free)


async def _applied_version(connection: BaseDBAsyncClient, group_id: int) -> int:
    """The rule version the group's members were last set from (before this run records its own)."""
    rows = await fetch_rows(connection, "SELECT rule_applied_version AS v FROM customer_group WHERE id = ?", group_id)
    return rows[0]["v"]


async def _clear_scratch(connection: BaseDBAsyncClient) -> None:
    for table in (MATCHES, JOINING, LEAVING):
        await execute(connection, f"DELETE FROM {table}")


# --- Whole groups -----------------------------------------------------------------------------


async def apply_rule(*, group_id: int, actor: Acting, now: datetime | None = None) -> RuleRun:
    """Set a rule-based group's members to what its current rule matches at `now`.

    One transaction on the background connection: the members, an event per join and leave, and
    the group's record of the run (applied version, time, joined, left) change together. Refuses
    (FormError) for a manual or an inactive group. A rung of a ladder runs its whole ladder."""
    await require(actor, Permission.MANAGE_RULES)
    ladder_id = (await ladder_ids_by_rung()).get(group_id)
    if ladder_id is None:
        return await _apply_group_rule(group_id=group_id, actor=actor, now=now)
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None:
        raise NotFoundError("This group was deleted meanwhile.")
    _runnable(_Group(group.id, group.name, group.type, group.status, group.rule, group.rule_version, group.capacity))
    return rung_run(await run_ladder(ladder_id=ladder_id, actor=actor, now=now), group.id)


def rung_run(run: LadderRun, group_id: int) -> RuleRun:
    """One rung's figures from its ladder's run, as a group's own run would give them."""
    outcome = run.rung(group_id)
    if outcome is None:  # moved out of the ladder meanwhile
        return RuleRun(group_id, "", 0, 0, 0, 0, run.ran_at, ladder=run)
    moves = run.moves_of(group_id)
    arrived = (*moves.up_from, *moves.down_from, *([moves.new] if moves.new else []))
    departed = (*moves.up_to, *moves.down_to, *([moves.off] if moves.off else []), *moves.only_on)
    return RuleRun(
        group_id=group_id,
        group_name=outcome.name,
        version=outcome.rule_version,
        joined=outcome.arrived,
        left=outcome.departed,
        members=outcome.members,
        ran_at=run.ran_at,
        joined_sample=tuple(sorted((c for s in arrived for c in s.sample), key=lambda c: (c.name, c.id)))[:SAMPLE_SIZE],
        left_sample=tuple(sorted((c for s in departed for c in s.sample), key=lambda c: (c.name, c.id)))[:SAMPLE_SIZE],
        turned_away=outcome.turned_away,
        ladder=run,
    )


@retried_on_conflict
async def _apply_group_rule(*, group_id: int, actor: Acting, now: datetime | None = None) -> RuleRun:
    actor = actor_name(actor)
    now = now or now_for_rules()
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        group = await _lock_group(connection, group_id)
        _runnable(group)
        await sized_for_bulk(connection)
        await _scratch_tables(connection)
        await _fill_matches(connection, group.rule, now=now)
        run_id = new_run_id()
        joined, left, turned_away = await _set_members(connection, group, actor=actor, now=now, run_id=run_id)
        joined_sample = await _sample(connection, JOINING) if joined else ()
        left_sample = await _sample(connection, LEAVING) if left else ()
        members = (await fetch_rows(connection, "SELECT COUNT(*) AS n FROM membership WHERE group_id = ?", group.id))[0]
        applied = await _applied_version(connection, group.id)
        await execute(
            connection,
            "UPDATE customer_group SET rule_applied_version = ?, rule_ran_at = ?, rule_run_id = ?, rule_joined = ?, "
            "rule_left = ? WHERE id = ?",
            group.rule_version,
            now,
            run_id,
            joined,
            left,
            group.id,
        )
        await _clear_scratch(connection)
        await outbox.rule_run_finished(
            connection,
            group_id=group.id,
            version=group.rule_version,
            joined=joined,
            left=left,
            members=members["n"],
            turned_away=turned_away,
            ran_at=now,
            first_of_version=applied != group.rule_version,
        )
    logger.info("Rule of %s (version %s): %s joined, %s left", group.name, group.rule_version, joined, left)
    if turned_away:
        logger.warning("%s is full (capacity %s): %s new matches not added", group.name, group.capacity, turned_away)
    return RuleRun(
        group_id=group.id,
        group_name=group.name,
        version=group.rule_version,
        joined=joined,
        left=left,
        members=members["n"],
        ran_at=now,
        joined_sample=joined_sample,
        left_sample=left_sample,
        turned_away=turned_away,
        capacity=group.capacity,
    )


def dependency_order(reads: dict[int, set[int]]) -> list[int]:
    """Group ids so that every group comes after the groups its rule reads (ties by id).

    Saving a rule refuses cycles; should one exist anyway, its groups come last, by id, rather
    than being left out."""
    waiting = {gid: {r for r in read if r in reads and r != gid} for gid, read in reads.items()}
    order: list[int] = []
    while waiting:
        ready = sorted(gid for gid, read in waiting.items() if not read)
        if not ready:
            logger.warning("Rules that read each other in a circle: groups %s", sorted(waiting))
            ready = sorted(waiting)
        for gid in ready:
            del waiting[gid]
            order.append(gid)
        for read in waiting.values():
            read.difference_update(ready)
    return order


async def _rule_groups(*, active_only: bool = True) -> dict[int, CustomerGroup]:
    query = CustomerGroup.filter(type__in=list(RULE_TYPES), rule__not_isnull=True)
    if active_only:
        query = query.filter(status=GroupStatus.ACTIVE)
    return {group.id: group for group in await query if group.rule}


def _reads(rule: dict) -> set[int]:
    """The groups a stored rule reads. A rule that no longer parses (the catalog changed since it
    was saved) reads none here; running it fails on its own without holding up the others."""
    try:
        return group_ids_read(parse_rule(rule))
    except RuleError:
        return set()


def _ordered(groups: dict[int, CustomerGroup], ladders: Mapping[int, int] | None = None) -> list[CustomerGroup]:
    """The groups in dependency order. The rungs of a ladder (`ladders`: rung -> ladder) are one
    unit, placed after every group any rung reads and before every group that reads any rung; its
    rungs come together, in id order."""
    ladders = ladders or {}

    def unit(gid: int) -> int:
        return -ladders[gid] if gid in ladders else gid  # a ladder's unit: its group id, negated

    reads: dict[int, set[int]] = {}
    members: dict[int, list[int]] = {}
    for gid in sorted(groups):
        reads.setdefault(unit(gid), set()).update(unit(r) for r in _reads(groups[gid].rule))
        members.setdefault(unit(gid), []).append(gid)
    for key, read in reads.items():
        read.discard(key)
    return [groups[gid] for key in dependency_order(reads) for gid in members[key]]


async def _apply_each(groups: Iterable[CustomerGroup], *, actor: Acting, now: datetime) -> list[RuleRun]:
    """Apply each group's rule in turn (a ladder once, for the first of its rungs); one group's
    failure is logged and does not stop the rest."""
    ladders = await ladder_ids_by_rung()
    ladder_runs: dict[int, LadderRun | None] = {}
    runs = []
    for group in groups:
        ladder_id = ladders.get(group.id)
        try:
            if ladder_id is None:
                runs.append(await apply_rule(group_id=group.id, actor=actor, now=now))
                continue
            if ladder_id not in ladder_runs:
                ladder_runs[ladder_id] = None  # a failure is logged once, not once per rung
                ladder_runs[ladder_id] = await run_ladder(ladder_id=ladder_id, actor=actor, now=now)
            run = ladder_runs[ladder_id]
            if run is not None and run.rung(group.id) is not None and run.rung(group.id).by_rule:
                runs.append(rung_run(run, group.id))
        except (FormError, NotFoundError):
            continue  # switched off or deleted since it was listed
        except Exception:
            logger.exception("Could not apply the rule of group %s (%s)", group.id, group.name)
    return runs


async def run_all_rules(*, actor: Acting = SYSTEM, now: datetime | None = None) -> list[RuleRun]:
    """Re-run every active rule-based group, groups read by "Member of Group" first.

    Rules with time-based conditions (account age, days since last order ...) drift as time
    passes without any data changing; this brings them up to date."""
    await require(actor, Permission.MANAGE_RULES)
    groups = _ordered(await _rule_groups(), await ladder_ids_by_rung())
    return await _apply_each(groups, actor=actor, now=now or now_for_rules())


async def apply_pending_rules(*, actor: Acting = SYSTEM) -> list[RuleRun]:
    """Apply the active groups whose saved rule version has not been applied yet (e.g. a save whose
    member update was interrupted), in dependency order."""
    groups = await _rule_groups()
    pending = {gid for gid, g in groups.items() if g.rule_applied_version < g.rule_version}
    ordered = _ordered(groups, await ladder_ids_by_rung())
    return await _apply_each([g for g in ordered if g.id in pending], actor=actor, now=now_for_rules())


async def rule_readers(*, group_id: int, transitive: bool = True) -> list[CustomerGroup]:
    """The rule-based groups (active or not) whose rules read `group_id`'s members ("Member of
    Group"), also through other groups unless `transitive` is off, in dependency order."""
    groups = await _rule_groups(active_only=False)
    reads = {gid: _reads(g.rule) for gid, g in groups.items()}
    found, todo = set(), [group_id]
    while todo:
        current = todo.pop()
        for gid, read in reads.items():
            if current in read and gid not in found:
                found.add(gid)
                if transitive:
                    todo.append(gid)
    found.discard(group_id)
    return [groups[gid] for gid in dependency_order(reads) if gid in found]


async def apply_rule_with_readers(*, group_id: int, actor: Acting, now: datetime | None = None) -> list[RuleRun]:
    """Apply the group's rule and, if its members changed, the rules of the active groups that
    read it ("Member of Group"), so they do not wait for the next periodic run. The group's own
    run comes first."""
    await require(actor, Permission.MANAGE_RULES)
    now = now or now_for_rules()
    run = await apply_rule(group_id=group_id, actor=actor, now=now)
    if run.ladder is not None:  # every rung of the ladder ran, and any of them may be read
        changed = {r.group_id for r in run.ladder.rungs if r.arrived or r.departed}
        rungs = [rung_run(run.ladder, r.group_id) for r in run.ladder.rungs if r.by_rule and r.group_id != group_id]
        readers: dict[int, CustomerGroup] = {}
        for gid in changed:
            readers |= {g.id: g for g in await rule_readers(group_id=gid) if g.status == GroupStatus.ACTIVE}
        for outcome in run.ladder.rungs:
            readers.pop(outcome.group_id, None)
        ordered = _ordered(readers, await ladder_ids_by_rung())
        return [run, *rungs, *await _apply_each(ordered, actor=actor, now=now)]
    if not run.changed:
        return [run]
    readers = [g for g in await rule_readers(group_id=group_id) if g.status == GroupStatus.ACTIVE]
    return [run, *await _apply_each(readers, actor=actor, now=now)]


async def apply_readers(*, group_ids: set[int], actor: Acting) -> list[RuleRun]:
    """After members of `group_ids` changed by hand: re-run the active rules that read them."""
    readers: dict[int, CustomerGroup] = {}
    for group_id in group_ids:
        readers |= {g.id: g for g in await rule_readers(group_id=group_id) if g.status == GroupStatus.ACTIVE}
    if not readers:
        return []
    return await _apply_each(_ordered(readers, await ladder_ids_by_rung()), actor=actor, now=now_for_rules())


# --- One customer -----------------------------------------------------------------------------


def _needs_change(group_type: GroupType, matches: bool, source: str | None) -> bool:
    """Whether _set_members would change this customer's membership (saves a write lock when not)."""
    if group_type == GroupType.HYBRID:
        return (
            source in (None, MembershipSource.MANUAL)
            if matches
            else source in (MembershipSource.RULE, MembershipSource.BOTH)
        )
    return source != MembershipSource.RULE if matches else source is not None


async def reevaluate_customer(*, customer_id: int, actor: Acting = SYSTEM) -> CustomerRuleChanges:
    """Re-check one customer against every active rule-based group after their data or orders
    changed, joining and leaving with events, groups read by "Member of Group" first.

    The match is decided by the explainer (services.rules.explainer), which evaluates the rule
    for one customer with a few indexed reads; the compiled SQL would aggregate all orders for a
    "purchases in the last N months" condition. The two are held together by a property test.
    Only groups where something changes take the write lock, one short transaction each. A ladder
    is settled for the customer as a whole (services.rules.ladders.settle_customers): a move counts
    as leaving one rung and joining the other."""
    if not await Customer.exists(id=customer_id):
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    now = now_for_rules()
    joined: list[str] = []
    left: list[str] = []
    ladders = await ladder_ids_by_rung()
    settled: set[int] = set()
    for group in _ordered(await _rule_groups(), ladders):
        if (ladder_id := ladders.get(group.id)) is not None:
            if ladder_id not in settled:
                settled.add(ladder_id)
                run = await settle_customers(ladder_id=ladder_id, customer_ids=[customer_id], actor=actor, now=now)
                for shift in run.shifts if run else ():
                    # A "leave" naming a rung: on two rungs, they keep that one, which they do not join.
                    joined += [shift.to_name] if shift.to_name and shift.direction != "leave" else []
                    left += [shift.from_name] if shift.from_name else []
            continue
        try:
            rule = parse_rule(group.rule)
        except RuleError:
            logger.exception("The rule of group %s (%s) no longer parses", group.id, group.name)
            continue
        facts = await load_facts(customer_ids=[customer_id], rule=rule, now=now)
        if customer_id not in facts:
            break  # deleted meanwhile
        matches = evaluate(rule, facts[customer_id], now=now).passed
        if matches and group.type == GroupType.HYBRID:
            matches = not await MembershipExclusion.exists(group_id=group.id, customer_id=customer_id)
        source = (
            await Membership.filter(group_id=group.id, customer_id=customer_id).first().values_list("source", flat=True)
        )
        if not _needs_change(group.type, matches, source):
            continue
        came, went = await _settle_customer(group, customer_id, matches=matches, actor=actor_name(actor), now=now)
        if came:
            joined.append(group.name)
        if went:
            left.append(group.name)
    return CustomerRuleChanges(customer_id=customer_id, joined=tuple(joined), left=tuple(left))


@retried_on_conflict
async def _settle_customer(
    group: CustomerGroup, customer_id: int, *, matches: bool, actor: str, now: datetime
) -> tuple[int, int]:
    """One customer in or out of one rule-based group, as `matches` says: (joined, left)."""
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        current = await _lock_group(connection, group.id)
        if current.status != GroupStatus.ACTIVE or current.type not in RULE_TYPES:
            return 0, 0
        if current.rule != group.rule:
            # Saved meanwhile: the save applies the new rule to everyone, this customer too.
            return 0, 0
        await _scratch_tables(connection)
        if matches:
            await execute(connection, f"INSERT INTO {MATCHES} (customer_id) VALUES (?)", customer_id)
        # Its own id: a customer settled in the same second as the group's run is no part of that run.
        came, went, _ = await _set_members(
            connection, current, actor=actor, now=now, run_id=new_run_id(), customer_id=customer_id
        )
        await _clear_scratch(connection)
    return came, went


# --- In the background ------------------------------------------------------------------------


async def refresh_rules_periodically(*, every_minutes: int, actor: Acting = SYSTEM) -> None:
    """Runs for the app's lifetime: first apply rules saved but not applied (an interrupted save),
    then re-run all rules every `every_minutes` (0: never). Errors are logged; the loop goes on
    until cancelled."""
    try:
        await apply_pending_rules(actor=actor)
    except Exception:
        logger.exception("Could not apply pending rules on start")
    if every_minutes <= 0:
        return
    while True:
        await asyncio.sleep(every_minutes * 60)
        try:
            runs = await run_all_rules(actor=actor)
            logger.info(
                "Periodic rule run: %s groups, %s joined, %s left",
                len(runs),
                sum(r.joined for r in runs),
                sum(r.left for r in runs),
            )
        except Exception:
            logger.exception("Periodic rule run failed")


@dataclass(frozen=True)
class LastRunChanges:
    joined: tuple[CustomerRef, ...]
    left: tuple[CustomerRef, ...]


async def last_run_changes(*, group_id: int) -> LastRunChanges:
    """A few of the customers the group's last rule run added and took out, by name."""
    group = await CustomerGroup.get_or_none(id=group_id)
    if group is None or group.rule_ran_at is None:
        return LastRunChanges((), ())
    events = MembershipEvent.filter(at=group.rule_ran_at, source=MembershipSource.RULE)
    if group.rule_run_id:  # runs in the same second (a save and its Undo) record events at one moment
        events = events.filter(run_id=group.rule_run_id)
    moves = list(LADDER_MOVES)  # a rung's last run: the moves in and out count as joins and leaves

    async def names(condition: Q) -> tuple[CustomerRef, ...]:
        rows = (
            await events.filter(condition)
            .order_by("customer__name")
            .limit(SAMPLE_SIZE)
            .values_list("customer_id", "customer__name")
        )
        return tuple(CustomerRef(id=i, name=n) for i, n in rows)

    came = Q(group_id=group_id, action__in=[MembershipAction.JOINED, *moves])
    went = Q(group_id=group_id, action=MembershipAction.LEFT) | Q(other_group_id=group_id, action__in=moves)
    return LastRunChanges(joined=await names(came), left=await names(went))


# --- Rule history -----------------------------------------------------------------------------

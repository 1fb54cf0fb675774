"""Adding and removing every customer a list's filter matches ("Select all N matching"), without
reading their ids into Python: the same checks, results, history events and webhooks as
services.membership.changes, in set-based SQL over the filter inside one transaction.

The set-based way covers what "Select all" is used for: "Add to this group only" from the add
dialog and "Remove group assignment" from the group page, on a group that is no ladder's rung.
Moves, "as primary" and rungs plan each customer (who leaves where, which rung, which primary
group), so there the filter's ids are read inside the action and handed to changes' own plan."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import CustomerStatus
from models.group import GroupType, MembershipAction, MembershipSource
from services.customers import CustomerFilter, filter_sql
from services.errors import FormError, NotFoundError
from services.membership.books import one_at_a_time_if_one_group, one_group_per_customer, recount
from services.membership.changes import (
    EXAMPLES,
    AddMode,
    AddResult,
    RemoveMode,
    RemoveResult,
    _accepts_members,
    _apply_readers,
    _group_names,
    _has_room,
    _lock_groups,
    _names,
    add_members,
    remove_members,
)
from services.staff.actor import Acting, Permission, actor_name, require
from services.storage.database import BACKGROUND
from services.storage.sql import execute, fetch_rows, is_postgres
from services.webhooks import outbox
from services.wording import count

BLOCKED = CustomerStatus.BLOCKED.value


@dataclass(frozen=True)
class _Chosen:
    """The filter as SQL over customer `c`, with its parameters."""

    where: str
    params: list


async def _chosen(connection: BaseDBAsyncClient, matching: CustomerFilter) -> _Chosen:
    where, params = await filter_sql(connection, matching)
    return _Chosen(where, params)


CHOSEN = "chosen_customer"


async def _fill(connection: BaseDBAsyncClient, matching: CustomerFilter) -> _Chosen:
    """The filter's matches into a temporary table of ids, read once (a search reads every customer),
    for the action's statements to join (services.rules.runs keeps its scratch tables the same way)."""
    await execute(connection, f"CREATE TEMP TABLE IF NOT EXISTS {CHOSEN} (customer_id INTEGER PRIMARY KEY)")
    await execute(connection, f"DELETE FROM {CHOSEN}")
    where, params = await filter_sql(connection, matching)
    await execute(connection, f"INSERT INTO {CHOSEN} (customer_id) SELECT c.id FROM customer c WHERE {where}", *params)
    return _Chosen(f"c.id IN (SELECT customer_id FROM {CHOSEN})", [])


async def _ids(matching: CustomerFilter) -> list[int]:
    """The filter's customers by id, for the actions that plan each of them."""
    connection = connections.get("default")
    chosen = await _chosen(connection, matching)
    rows = await fetch_rows(
        connection, f"SELECT c.id FROM customer c WHERE {chosen.where} ORDER BY c.id", *chosen.params
    )
    return [row["id"] for row in rows]


async def _lock_customers(connection: BaseDBAsyncClient, chosen: _Chosen) -> None:
    """PostgreSQL: lock the chosen customers' rows in id order, as changes._lock_customers does for a list."""
    if is_postgres(connection):
        await fetch_rows(
            connection,
            "SELECT COUNT(*) AS n FROM (SELECT c.id FROM customer c "
            f"WHERE {chosen.where} ORDER BY c.id FOR NO KEY UPDATE) locked",
            *chosen.params,
        )


async def _count(connection: BaseDBAsyncClient, where: str, *params) -> int:
    return (await fetch_rows(connection, f"SELECT COUNT(*) AS n FROM customer c WHERE {where}", *params))[0]["n"]


async def _is_rung(group_id: int) -> bool:
    return (await _group_names(connections.get("default")))[group_id].ladder_id is not None


class _Planned(Exception):
    """The group became a rung meanwhile: the action goes the planning way after all."""


async def add_matching(
    *, group_id: int, matching: CustomerFilter, mode: AddMode, actor: Acting, reason: str = ""
) -> AddResult:
    """add_members for every customer `matching` names (see the module's notes)."""
    await require(actor, Permission.MANAGE_MEMBERS)
    if mode != AddMode.ADD or await _is_rung(group_id):
        return await add_members(
            group_id=group_id, customer_ids=await _ids(matching), mode=mode, actor=actor, reason=reason
        )
    try:
        return await _add(group_id=group_id, matching=matching, actor=actor, reason=reason)
    except _Planned:
        return await add_members(
            group_id=group_id, customer_ids=await _ids(matching), mode=mode, actor=actor, reason=reason
        )


async def _add(*, group_id: int, matching: CustomerFilter, actor: Acting, reason: str) -> AddResult:
    who, name = actor, actor_name(actor)
    now = datetime.now(UTC)
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        chosen = await _fill(connection, matching)
        await _lock_customers(connection, chosen)
        groups = await _lock_groups(connection, [group_id])
        if group_id not in groups:
            raise NotFoundError("This group was deleted meanwhile.")
        group = groups[group_id]
        if (await _group_names(connection))[group_id].ladder_id is not None:
            raise _Planned
        inside = "EXISTS (SELECT 1 FROM membership g WHERE g.group_id = ? AND g.customer_id = c.id)"
        allowed = f"{chosen.where} AND c.status <> ?"
        joining = f"{allowed} AND NOT {inside}"
        blocked_names = [
            r["name"]
            for r in await fetch_rows(
                connection,
                f"SELECT c.name FROM customer c WHERE {chosen.where} AND c.status = ? ORDER BY c.id LIMIT {EXAMPLES}",
                *chosen.params,
                BLOCKED,
            )
        ]
        blocked = await _count(connection, f"{chosen.where} AND c.status = ?", *chosen.params, BLOCKED)
        joiners = await _count(connection, joining, *chosen.params, BLOCKED, group_id)
        already = await _count(connection, f"{allowed} AND {inside}", *chosen.params, BLOCKED, group_id)
        if not (blocked or joiners or already):
            raise FormError({"customers": "Select at least one customer."})
        _accepts_members(group, field_name="group")
        _has_room(group, joiners, field_name="capacity")
        if await one_group_per_customer(connection):
            await _refuse_second_groups(connection, joining, [*chosen.params, BLOCKED, group_id], group_id)
        text = reason.strip()
        # The events first: they name the joiners, who are told apart by not being members yet.
        await execute(
            connection,
            "INSERT INTO membership_event (customer_id, group_id, group_name, action, source, reason, actor, at) "
            f"SELECT c.id, ?, ?, ?, ?, ?, ?, ? FROM customer c WHERE {joining}",
            group_id,
            group.name,
            MembershipAction.JOINED.value,
            MembershipSource.MANUAL.value,
            text,
            name,
            now,
            *chosen.params,
            BLOCKED,
            group_id,
        )
        # A joiner without a primary group gets this one (services.membership.changes._settle_primaries:
        # the newest membership wins), computed before the INSERT sees its own rows.
        await execute(
            connection,
            "INSERT INTO membership (customer_id, group_id, source, is_primary, since) SELECT c.id, ?, ?, NOT EXISTS "
            f"(SELECT 1 FROM membership p WHERE p.customer_id = c.id AND p.is_primary), ? FROM customer c WHERE {joining}",
            group_id,
            MembershipSource.MANUAL.value,
            now,
            *chosen.params,
            BLOCKED,
            group_id,
        )
        chosen_ids = f"SELECT c.id FROM customer c WHERE {allowed}"
        await execute(  # the owner now wants members the rule brought in, too
            connection,
            f"UPDATE membership SET source = ? WHERE group_id = ? AND source = ? AND customer_id IN ({chosen_ids})",
            MembershipSource.BOTH.value,
            group_id,
            MembershipSource.RULE.value,
            *chosen.params,
            BLOCKED,
        )
        await execute(  # adding someone kept out of a hybrid group lets them in again
            connection,
            f"DELETE FROM membership_exclusion WHERE group_id = ? AND customer_id IN ({chosen_ids})",
            group_id,
            *chosen.params,
            BLOCKED,
        )
        await recount(connection, [group_id])
        await outbox.membership_events(connection, group_ids=[group_id], at=now)
    await _apply_readers([group_id], actor=who)
    return AddResult(
        group_id=group_id,
        group_name=group.name,
        added=joiners,
        already=already,
        made_primary=0,
        moved_out=0,
        blocked=blocked,
        blocked_names=tuple(blocked_names),
    )


async def _refuse_second_groups(connection: BaseDBAsyncClient, joining: str, params: list, group_id: int) -> None:
    """changes._refuse_second_groups for the joiners `joining` names: with one group per customer,
    nobody in another group joins without a move."""
    elsewhere = (
        f"FROM customer c JOIN membership o ON o.customer_id = c.id AND o.group_id <> ? "
        f"JOIN customer_group og ON og.id = o.group_id WHERE {joining}"
    )
    rows = await fetch_rows(
        connection,
        f"SELECT c.id, c.name, og.name AS group_name {elsewhere} ORDER BY c.id, og.name LIMIT {EXAMPLES * 10}",
        group_id,
        *params,
    )
    if not rows:
        return
    total = (await fetch_rows(connection, f"SELECT COUNT(DISTINCT c.id) AS n {elsewhere}", group_id, *params))[0]["n"]
    examples = list({r["id"]: f"{r['name']} ({r['group_name']})" for r in rows}.values())
    raise FormError(
        {
            "mode": f"{count(total, 'selected customer is', 'selected customers are')} already in another "
            f"group: {_names(examples, total)}. The shop allows one group per customer: "
            'choose "Move from current group".'
        }
    )


async def remove_matching(
    *,
    group_id: int,
    matching: CustomerFilter,
    mode: RemoveMode,
    actor: Acting,
    reason: str = "",
    target_group_id: int | None = None,
) -> RemoveResult:
    """remove_members for every member `matching` names (see the module's notes)."""
    await require(actor, Permission.MANAGE_MEMBERS)
    if mode != RemoveMode.REMOVE or await _is_rung(group_id):
        return await remove_members(
            group_id=group_id,
            customer_ids=await _ids(matching),
            mode=mode,
            actor=actor,
            reason=reason,
            target_group_id=target_group_id,
        )
    try:
        return await _remove(group_id=group_id, matching=matching, actor=actor, reason=reason)
    except _Planned:
        return await remove_members(
            group_id=group_id, customer_ids=await _ids(matching), mode=mode, actor=actor, reason=reason
        )


async def _remove(*, group_id: int, matching: CustomerFilter, actor: Acting, reason: str) -> RemoveResult:
    who, name = actor, actor_name(actor)
    now = datetime.now(UTC)
    async with in_transaction(BACKGROUND) as connection:
        await one_at_a_time_if_one_group(connection)
        chosen = await _fill(connection, matching)
        await _lock_customers(connection, chosen)
        groups = await _lock_groups(connection, [group_id])
        if group_id not in groups:
            raise NotFoundError("This group was deleted meanwhile.")
        group = groups[group_id]
        if group.type == GroupType.AUTOMATIC:
            raise FormError(
                {
                    "group": f"{group.name} is an automatic group: its members follow its rule, so they cannot be "
                    "removed by hand. Turn it into a hybrid group to keep chosen customers out."
                }
            )
        if (await _group_names(connection))[group_id].ladder_id is not None:
            raise _Planned
        leaving = f"SELECT c.id FROM customer c WHERE {chosen.where}"
        members = f"FROM membership m WHERE m.group_id = ? AND m.customer_id IN ({leaving})"
        removed = (await fetch_rows(connection, f"SELECT COUNT(*) AS n {members}", group_id, *chosen.params))[0]["n"]
        if not removed:
            raise FormError({"customers": "Select at least one member."})
        text = reason.strip()
        by_rule = (MembershipSource.RULE.value, MembershipSource.BOTH.value)
        excluded = 0
        if group.type == GroupType.HYBRID:  # the rule would bring them back: keep them out
            await execute(
                connection,
                "DELETE FROM membership_exclusion WHERE group_id = ? AND customer_id IN "
                f"(SELECT m.customer_id {members} AND m.source IN (?, ?))",
                group_id,
                group_id,
                *chosen.params,
                *by_rule,
            )
            excluded = await execute(
                connection,
                "INSERT INTO membership_exclusion (group_id, customer_id, reason, actor, at) "
                f"SELECT m.group_id, m.customer_id, ?, ?, ? {members} AND m.source IN (?, ?)",
                text,
                name,
                now,
                group_id,
                *chosen.params,
                *by_rule,
            )
        await execute(
            connection,
            "INSERT INTO membership_event (customer_id, group_id, group_name, action, source, reason, actor, at) "
            f"SELECT m.customer_id, m.group_id, ?, ?, m.source, ?, ?, ? {members}",
            group.name,
            MembershipAction.LEFT.value,
            text,
            name,
            now,
            group_id,
            *chosen.params,
        )
        # Whoever loses their primary group here gets their newest remaining group as primary
        # (services.membership.books.settle_primaries), chosen before the memberships go.
        await execute(
            connection,
            "UPDATE membership SET is_primary = ? WHERE id IN (SELECT (SELECT o.id FROM membership o "
            "WHERE o.customer_id = m.customer_id AND o.group_id <> m.group_id ORDER BY o.since DESC, o.id DESC "
            f"LIMIT 1) {members} AND m.is_primary)",
            True,
            group_id,
            *chosen.params,
        )
        await execute(
            connection, f"DELETE FROM membership WHERE id IN (SELECT m.id {members})", group_id, *chosen.params
        )
        await recount(connection, [group_id])
        await outbox.membership_events(connection, group_ids=[group_id], at=now)
    await _apply_readers([group_id], actor=who)
    return RemoveResult(group_id=group_id, group_name=group.name, removed=removed, excluded=excluded, not_members=0)


async def add_chosen(
    *, group_id: int, chosen: Sequence[int] | CustomerFilter, mode: AddMode, actor: Acting, reason: str = ""
) -> AddResult:
    """Add the customers a page's selection holds: ticked ids, or everything its filter matches."""
    if isinstance(chosen, CustomerFilter):
        return await add_matching(group_id=group_id, matching=chosen, mode=mode, actor=actor, reason=reason)
    return await add_members(group_id=group_id, customer_ids=chosen, mode=mode, actor=actor, reason=reason)


async def remove_chosen(
    *,
    group_id: int,
    chosen: Sequence[int] | CustomerFilter,
    mode: RemoveMode,
    actor: Acting,
    reason: str = "",
    target_group_id: int | None = None,
) -> RemoveResult:
    """Remove the members a page's selection holds: ticked ids, or everything its filter matches."""
    if isinstance(chosen, CustomerFilter):
        return await remove_matching(
            group_id=group_id, matching=chosen, mode=mode, actor=actor, reason=reason, target_group_id=target_group_id
        )
    return await remove_members(
        group_id=group_id, customer_ids=chosen, mode=mode, actor=actor, reason=reason, target_group_id=target_group_id
    )

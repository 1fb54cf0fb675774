"""A group's place on a ladder (services.rules.ladders) as the hierarchy changes, inside the
transaction of the change (services.groups.group: the group form's parent, the hierarchy's move, a
deletion whose subgroups move up):

- A group moved under a ladder's group becomes its bottom rung (the ones moved together by name),
  and the ladder places everyone at once: a customer on the new rung and on another one keeps one
  of them, with one move event, as making a ladder resolves an overlap.
- A rung moved away, or whose ladder is deleted, is a plain group again: its members stay (ordinary
  members now), its rung number and their holds go. The ladder left numbers its rungs 1..n again and
  places its customers at once (a former rung's customers may now qualify for a rung still on it).
- A ladder is never left with fewer than MIN_RUNGS rungs by a move or a deletion: the owner turns
  the ladder off first, as the FormError says (`too_few_rungs` words it for the form's checks too).
"""

from collections.abc import Iterable, Sequence

from tortoise.backends.base.client import BaseDBAsyncClient

from models.group import CustomerGroup, Membership
from services.errors import FormError
from services.rules.explainer import now_for_rules
from services.rules.ladder_setup import MIN_RUNGS
from services.rules.ladders import LadderRun, run_in, rung_order
from services.storage.sql import fetch_rows, is_postgres, placeholders


def too_few_rungs(*, group: str, ladder: str, rungs: int, deleting: bool = False) -> str | None:
    """Why `group`, one of the `rungs` rungs of `ladder` now, cannot leave it; None when the ladder
    keeps enough without it."""
    if rungs - 1 >= MIN_RUNGS:
        return None
    then = f"delete {group}" if deleting else f"move {group} out of it"
    return (
        f"{group} is one of the {rungs} rungs of the ladder {ladder}, which needs at least {MIN_RUNGS}: "
        f"turn the ladder off first, then {then}."
    )


async def lock_ladders(connection: BaseDBAsyncClient, group_ids: Iterable[int | None]) -> None:
    """On PostgreSQL, lock these groups' rows (the ladders a change leaves or joins) before the
    changed group's own, in id order: a ladder's run locks its group first, then its rungs, so the
    two never wait for each other in a circle. SQLite's transaction holds the write lock already."""
    ids = sorted({gid for gid in group_ids if gid is not None})
    if ids and is_postgres(connection):
        await fetch_rows(
            connection,
            f"SELECT id FROM customer_group WHERE id IN ({placeholders(ids)}) ORDER BY id FOR NO KEY UPDATE",
            *ids,
        )


async def ladder_named(connection: BaseDBAsyncClient, group_id: int | None) -> str | None:
    """The group's name if it is a ladder, else None."""
    if group_id is None:
        return None
    row = await CustomerGroup.filter(id=group_id, is_ladder=True).using_db(connection).first().values("name")
    return row["name"] if row else None


async def keep_enough_rungs(
    connection: BaseDBAsyncClient, *, ladder_id: int | None, group: str, field: str, deleting: bool = False
) -> None:
    """After `group` left the ladder `ladder_id` (its rows already changed in this transaction):
    FormError at `field` when the ladder has fewer than MIN_RUNGS rungs left, which undoes it all."""
    if (name := await ladder_named(connection, ladder_id)) is None:
        return
    left = await CustomerGroup.filter(parent_id=ladder_id).using_db(connection).count()
    if problem := too_few_rungs(group=group, ladder=name, rungs=left + 1, deleting=deleting):
        raise FormError({field: problem})


async def off_ladder(connection: BaseDBAsyncClient, group_ids: Sequence[int]) -> None:
    """The groups are rungs no more: no rung number, and no holds on their members."""
    ids = list(group_ids)
    if not ids:
        return
    await CustomerGroup.filter(id__in=ids, rung__not_isnull=True).using_db(connection).update(rung=None)
    await Membership.filter(group_id__in=ids, held_until__not_isnull=True).using_db(connection).update(held_until=None)


async def number_rungs(connection: BaseDBAsyncClient, *, ladder_id: int | None, newcomers: Sequence[int] = ()) -> bool:
    """If `ladder_id` is a ladder: number its rungs 1..n in their order, `newcomers` (just put
    under it) at the bottom by name. Whether it is a ladder."""
    if await ladder_named(connection, ladder_id) is None:
        return False
    rows = await CustomerGroup.filter(parent_id=ladder_id).using_db(connection).values_list("id", "name", "rung")
    new = set(newcomers)
    staying = rung_order((gid, name, rung) for gid, name, rung in rows if gid not in new)
    arriving = rung_order((gid, name, None) for gid, name, _ in rows if gid in new)
    numbers = {gid: rung for gid, _, rung in rows}
    for position, gid in enumerate([*staying, *arriving], start=1):
        if numbers[gid] != position:
            await CustomerGroup.filter(id=gid).using_db(connection).update(rung=position)
    return True


async def place_rungs(
    connection: BaseDBAsyncClient, *, ladder_id: int | None, newcomers: Sequence[int] = (), actor: str
) -> LadderRun | None:
    """number_rungs, then run the ladder in this transaction (whose first lock was
    one_at_a_time_if_one_group). None when `ladder_id` is no ladder."""
    if not await number_rungs(connection, ladder_id=ladder_id, newcomers=newcomers):
        return None
    return await run_in(connection, ladder_id=ladder_id, actor=actor, now=now_for_rules())


def changed_rungs(runs: Iterable[LadderRun | None]) -> set[int]:
    """The rungs whose members these runs changed (the rules reading them run again)."""
    return {r.group_id for run in runs if run is not None for r in run.rungs if r.arrived or r.departed}

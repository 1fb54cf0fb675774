"""How many saves per second four people get when they write at once on SQLite: `python -m bench.writes`.

Reuses (or builds, in bench/.data/) the 10,000-customer demo shop. On a fresh scratch copy per
case, four writers run side by side in one process for a few seconds each, as four browser tabs
would: each in turn edits its own group's description (read the version, then save), adds one
customer to Wholesale and takes them out again (the background connection), the two connections
the app writes on. Two cases in the same run:

- before: Tortoise's own SQLite client, whose transactions begin DEFERRED (a transaction that read
  and then writes fails with "database is locked" when another connection committed meanwhile);
- after: services.storage.sqlite_writers, whose transactions begin IMMEDIATE behind one write lock per
  database file in the process (writers queue).

And one writer alone on the "after" client, the floor: four writers cannot go faster than one on
one SQLite file, and should not go much slower.

Prints saves per second, refusals and the p95 of one save; never fails the run (benchmarks are not
part of the pass/fail test run, and machines are noisy).
"""

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial

from tortoise import Tortoise

from bench.shops import ShopSize, build_or_reuse, p95, scratch_copy
from bench.summary import record
from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.groups.group import get_group, update_group
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.staff.actor import SystemActor
from services.storage.database import tortoise_config

SHOP = ShopSize(customers=10_000, orders=None)
SECONDS = 6.0
WRITERS = 4
ACTOR = SystemActor("bench")
EDITED = ("VIP", "GOLD", "SILVER", "NEW")  # each writer edits its own group


@dataclass
class Tally:
    saves: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    took: list[float] = field(default_factory=list)

    def timed(self, started: float, error: Exception | None) -> None:
        if error is None:
            self.saves += 1
            self.took.append(time.perf_counter() - started)
        else:
            key = f"{type(error).__name__}: {error}"[:80]
            self.refused[key] = self.refused.get(key, 0) + 1


def config(url: str, *, stock: bool) -> dict:
    settings = tortoise_config(url)
    if stock:  # Tortoise's own client, as before services.storage.sqlite_writers
        for connection in settings["connections"].values():
            connection["engine"] = "tortoise.backends.sqlite"
            connection["credentials"].pop("read_only", None)
    return settings


async def writer(number: int, groups: dict[str, int], outsider: int, until: float, tally: Tally) -> None:
    group_id, wholesale = groups[EDITED[number]], groups["WHOLESALE"]
    round_ = 0
    while time.perf_counter() < until:
        round_ += 1
        for save in (
            partial(_edit, group_id, round_),
            partial(add_members, group_id=wholesale, customer_ids=[outsider], mode=AddMode.ADD, actor=ACTOR),
            partial(remove_members, group_id=wholesale, customer_ids=[outsider], mode=RemoveMode.REMOVE, actor=ACTOR),
        ):
            started = time.perf_counter()
            try:
                await save()
            except Exception as error:  # counted: what the person would have seen
                tally.timed(started, error)
            else:
                tally.timed(started, None)


async def _edit(group_id: int, round_: int) -> None:
    group = await get_group(group_id=group_id)
    data = group.as_input().model_copy(update={"description": f"Edited in round {round_}"})
    await update_group(group_id=group_id, version=group.version, data=data, actor=ACTOR)


async def run_case(*, stock: bool, writers: int) -> Tally:
    tally = Tally()
    with scratch_copy(SHOP) as path:
        await Tortoise.init(config=config(f"sqlite://{path}", stock=stock), _enable_global_fallback=True)
        try:
            groups = dict(await CustomerGroup.all().values_list("code", "id"))
            members = await Membership.filter(group_id=groups["WHOLESALE"]).values_list("customer_id", flat=True)
            outsiders = (
                await Customer.exclude(id__in=members).order_by("id").limit(writers).values_list("id", flat=True)
            )
            until = time.perf_counter() + SECONDS
            await asyncio.gather(*(writer(n, groups, outsiders[n], until, tally) for n in range(writers)))
        finally:
            await Tortoise.close_connections()
    return tally


def report(name: str, tally: Tally) -> None:
    refused = sum(tally.refused.values())
    late = f"{p95(tally.took) * 1000:.0f} ms" if len(tally.took) > 1 else "n/a"
    print(
        f"  {name:<34} {tally.saves / SECONDS:7.1f} saves/s   refused {refused:5} "
        f"({refused / max(1, refused + tally.saves):.0%})   p95 of a save {late}"
    )
    for what, n in sorted(tally.refused.items(), key=lambda item: -item[1])[:3]:
        print(f"      {n:5} x {what}")


async def main() -> None:
    build_or_reuse(SHOP)
    print(f"\n{WRITERS} writers at once for {SECONDS:.0f} s each on the {SHOP.label} (SQLite):")
    before = await run_case(stock=True, writers=WRITERS)
    report("before: deferred transactions", before)
    after = await run_case(stock=False, writers=WRITERS)
    report("after: writers queue (IMMEDIATE)", after)
    alone = await run_case(stock=False, writers=1)
    report("floor: one writer alone (after)", alone)
    scale = f"{WRITERS} writers, {SHOP.label}"
    record(
        "writes",
        "saves per second, writers at once",
        after.saves / SECONDS,
        "/s",
        scale=scale,
        baseline=alone.saves / SECONDS,
        baseline_is="one writer alone",
    )
    refused = sum(after.refused.values())
    record("writes", "saves refused", refused, "", scale=scale, target="0", passed=refused == 0)
    print(
        f"\nAfter / before: {after.saves / max(1, before.saves):.2f}x the saves, "
        f"{sum(after.refused.values())} refused (target 0); "
        f"four writers / one alone: {after.saves / max(1, alone.saves):.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())

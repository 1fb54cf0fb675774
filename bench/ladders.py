"""How fast a tier ladder runs against one group of the same size: `python -m bench.ladders [1m]`.

Reuses (or builds, in bench/.data/) the 100,000-customer demo shop of bench.rules (with `1m`, the
1,000,000-customer one as well) and works on a throwaway copy. Bench groups are added beside the
demo's own: a baseline automatic group, Total Purchases >= T, whose rule matches MEMBERS_SHARE of
the customers, and a ladder of three automatic rungs with overlapping rules as an owner writes
tiers (Gold >= T1, Silver >= T2, Bronze >= T), so the ladder places exactly the baseline's
customers, each on one rung. Interleaved rounds, so a noisy machine affects both alike:

1. First run: every customer arrives. The baseline: apply_rule on the empty group (a join, an event
   and an outbox row per member). The ladder: run_ladder on empty rungs (the same per customer,
   plus three compiled scans instead of one and the placement).
2. Again, nothing changes: apply_rule vs run_ladder over groups already in place.
3. Moves: Gold's threshold lowered so SHARE_MOVED of Silver moves up, then put back (they move
   down); run_ladder each time.
4. One customer after an order: settle_customers (the explainer's answer for one customer, planned
   on the reader, nothing written when nothing changes).

Issue 22's target: "a ladder re-run over 1M customers (3 rungs) is within 1.5x of materialising one
group of the same size", printed as such (2. run_ladder against 1. apply_rule), beside the two like
for like ratios (first run against first run, re-run against re-run). A figure over target never
fails the run (benchmarks are not tests).
"""

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

from bench.shops import ShopSize, build_or_reuse, scratch_copy
from models.customer import Customer
from models.group import CustomerGroup, GroupType, Membership, MembershipEvent
from models.webhook import WebhookEvent
from services.membership.books import recount
from services.rules.ladders import run_ladder, settle_customers
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor
from services.storage.database import background_connection, close_database, open_database

MEDIUM = ShopSize(customers=100_000, orders=1_000_000)
LARGE = ShopSize(customers=1_000_000, orders=2_000_000)
ACTOR = SystemActor("bench")
MEMBERS_SHARE = 0.5  # of the shop's customers, on the ladder and in the baseline group
RUNG_SHARES = (0.1, 0.25, 0.5)  # Gold, Silver, Bronze: the customers matching each rule, cumulative
SHARE_MOVED = 0.2  # of Silver, moved up and back down in step 3
ROUNDS = 5
SETTLES = 20
RATIO_TARGET = 1.5


@dataclass
class Figures:
    shop: ShopSize
    members: int = 0
    rungs: dict[str, int] = field(default_factory=dict)
    first_group_s: list[float] = field(default_factory=list)
    first_ladder_s: list[float] = field(default_factory=list)
    again_group_s: list[float] = field(default_factory=list)
    again_ladder_s: list[float] = field(default_factory=list)
    moved: tuple[int, int] = (0, 0)  # up, then down
    up_s: float = 0.0
    down_s: float = 0.0
    settle_ms: list[float] = field(default_factory=list)


def _at_least(cents: int) -> dict:
    return {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": cents}]}


async def _threshold(share: float) -> int:
    """Lifetime purchases (in cents) such that about `share` of the customers have at least that."""
    customers = await Customer.all().count()
    rank = max(int(customers * share), 1)
    return (await Customer.all().order_by("-lifetime_cents").offset(rank - 1).limit(1).values_list("lifetime_cents"))[
        0
    ][0]


async def _group(name: str, code: str, **fields) -> int:
    # Created as rows, rule included, without running it: the rounds below time the runs alone.
    group = await CustomerGroup.create(name=name, name_key=name.casefold(), code=code, **fields)
    return group.id


async def _empty(group_ids: list[int]) -> None:
    """Take the bench groups back to no members, and forget their history and outbox rows, so every
    round starts from the same place."""
    await Membership.filter(group_id__in=group_ids).delete()
    await MembershipEvent.filter(group_id__in=group_ids).delete()
    await WebhookEvent.filter(group_id__in=group_ids).delete()
    await recount(background_connection(), group_ids)


async def _timed(work) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def measure(shop: ShopSize, path, figures: Figures) -> None:
    await open_database(database_url=f"sqlite://{path}")
    try:
        floors = [await _threshold(share) for share in RUNG_SHARES]
        baseline = await _group("Bench baseline", "BENCH-BASE", type=GroupType.AUTOMATIC, rule=_at_least(floors[-1]))
        parent = await _group("Bench ladder", "BENCH-LADDER", is_ladder=True)
        rungs = [
            await _group(
                name, f"BENCH-{name.upper()}", type=GroupType.AUTOMATIC, rule=_at_least(floor), parent_id=parent, rung=i
            )
            for i, (name, floor) in enumerate(zip(("Gold", "Silver", "Bronze"), floors, strict=True), start=1)
        ]
        for _ in range(ROUNDS):
            await _empty([baseline, *rungs])
            figures.first_group_s.append(await _timed(apply_rule(group_id=baseline, actor=ACTOR)))
            figures.first_ladder_s.append(await _timed(run_ladder(ladder_id=parent, actor=ACTOR)))
        figures.members = await Membership.filter(group_id=baseline).count()
        figures.rungs = {
            name: await Membership.filter(group_id=gid).count()
            for name, gid in zip(("Gold", "Silver", "Bronze"), rungs, strict=True)
        }
        for _ in range(ROUNDS):
            figures.again_group_s.append(await _timed(apply_rule(group_id=baseline, actor=ACTOR)))
            figures.again_ladder_s.append(await _timed(run_ladder(ladder_id=parent, actor=ACTOR)))

        silver = figures.rungs["Silver"]
        lower = (
            await Customer.filter(lifetime_cents__lt=floors[0])
            .order_by("-lifetime_cents")
            .offset(max(int(silver * SHARE_MOVED) - 1, 0))
            .limit(1)
            .values_list("lifetime_cents", flat=True)
        )[0]
        await CustomerGroup.filter(id=rungs[0]).update(rule=_at_least(lower))
        started = time.perf_counter()
        up = await run_ladder(ladder_id=parent, actor=ACTOR)
        figures.up_s = time.perf_counter() - started
        await CustomerGroup.filter(id=rungs[0]).update(rule=_at_least(floors[0]))
        started = time.perf_counter()
        down = await run_ladder(ladder_id=parent, actor=ACTOR)
        figures.down_s = time.perf_counter() - started
        figures.moved = (up.moved_up, down.moved_down)

        sample = await Membership.filter(group_id=rungs[1]).limit(SETTLES).values_list("customer_id", flat=True)
        for customer_id in sample:
            started = time.perf_counter()
            await settle_customers(ladder_id=parent, customer_ids=[customer_id], actor=ACTOR)
            figures.settle_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await close_database()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(all_figures: list[Figures], load: tuple) -> None:
    print()
    print("Tier ladders: a ladder run against materialising one group of the same size (in-process, SQLite;")
    print(f"median of {ROUNDS} interleaved rounds; load average {load[0][0]:.1f} before, {load[1][0]:.1f} after)")
    for f in all_figures:
        rungs = ", ".join(f"{name} {n:,}" for name, n in f.rungs.items())
        print()
        print(f"{f.shop.label}: {f.members:,} customers on the ladder and in the baseline group ({rungs})")
        rows = [
            ("1. first run, everyone arrives", _median(f.first_group_s), _median(f.first_ladder_s)),
            ("2. again, nothing changes", _median(f.again_group_s), _median(f.again_ladder_s)),
        ]
        print(f"   {'':<36}{'apply_rule (1 group)':>22}{'run_ladder (3 rungs)':>22}{'ratio':>8}")
        for name, group, ladder in rows:
            print(f"   {name:<36}{group:>20.2f} s{ladder:>20.2f} s{ladder / group:>7.2f}x")
        target = _median(f.again_ladder_s) / _median(f.first_group_s)
        verdict = "OK" if target <= RATIO_TARGET else "over target"
        print(
            f"   issue 22: a ladder re-run ({_median(f.again_ladder_s):.2f} s) against materialising one group of the "
            f"same size ({_median(f.first_group_s):.2f} s): {target:.2f}x, target {RATIO_TARGET}x: {verdict}"
        )
        print(
            f"   3. Gold lowered: {f.moved[0]:,} move up in {f.up_s:.2f} s; put back: {f.moved[1]:,} move down in {f.down_s:.2f} s"
        )
        print(
            f"   4. one customer after an order (settle_customers, nothing to change): median "
            f"{_median(f.settle_ms):.1f} ms, max {max(f.settle_ms):.1f} ms over {len(f.settle_ms)}"
        )


def main() -> None:
    started, load = time.perf_counter(), os.getloadavg()
    shops = [MEDIUM, LARGE] if "1m" in sys.argv[1:] else [MEDIUM]
    all_figures = []
    for shop in shops:
        build_or_reuse(shop)
        figures = Figures(shop)
        print(f"Ladder and baseline on a copy of the {shop.label} ...")
        with scratch_copy(shop) as copy:
            asyncio.run(measure(shop, copy, figures))
        all_figures.append(figures)
    report(all_figures, (load, os.getloadavg()))
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

"""A rung's rule preview against a plain automatic group's, and against planning every customer:
`python -m bench.rung_preview [--path FILE]` (issue 20, item 16).

The Rules step of a rung (the demo's Bronze Tier, a rung of "Tiered Customers") draws its first
preview into the page: what saving its rule would move (services.rules.preview.preview_rung_rule).
That used to plan the whole ladder for every customer in scratch tables; it now plans only the
customers whose place could change (services.rules.ladders, `_unsettled`). On a throwaway copy of
the 10,000-customer demo shop (or of FILE), interleaved rounds, so a busy machine weighs on all
alike, time:

- the baseline: preview_rule of the largest automatic group on no ladder (its count, samples,
  joins and leaves);
- preview_rung_rule of the largest rung with its saved rule (the page's first preview), and with a
  draft that takes in more customers (the owner typing), each beside the plan of every customer
  for the same answer (`_preview(..., everyone=True)`, what it cost before), checked equal first.

Wall time and the process's CPU time per call (the database works in a thread of this process).
A shop cached before the demo had its ladder (no "Tiered Customers") gets one here: its tier groups,
Gold over Silver (over Bronze), made a ladder, which places their customers first.
"""

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.shops import ShopSize, build_or_reuse, p95, scratch_copy
from bench.summary import record
from models.group import CustomerGroup, GroupType
from services.groups.group import create_group
from services.rules import ladders
from services.rules.explainer import now_for_rules
from services.rules.ladder_setup import make_ladder
from services.rules.ladders import ladder_ids_by_rung, load_ladder, with_rule
from services.rules.model import parse_rule
from services.rules.preview import RungPreview, preview_rule, preview_rung_rule
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database

SHOP = ShopSize(customers=10_000, orders=None)  # bench.load's
ROUNDS = 3
PER_ROUND = 12  # 36 timed calls of each
WARM_UP = 3
ACTOR = SystemActor("bench")
TIERS = ("Gold Tier", "Silver Tier", "Bronze Tier")


async def _ladder_rung() -> CustomerGroup:
    """The largest rung of a ladder, making the demo's tiers one if the shop has none."""
    if not await ladder_ids_by_rung():
        tiers = {g.name: g for g in await CustomerGroup.filter(name__in=TIERS)}
        order = [tiers[name].id for name in TIERS if name in tiers]
        parent = await create_group(data={"name": "Tiered Customers", "code": "TIERED"}, actor=ACTOR)
        await CustomerGroup.filter(id__in=order).update(parent_id=parent.id)
        run = await make_ladder(parent_id=parent.id, rung_order=order, actor=ACTOR)
        print(f"Made the tiers a ladder ({run.moved_up + run.moved_down:,} moved, {run.left:,} left)")
    rungs = list(await ladder_ids_by_rung())
    return await CustomerGroup.filter(id__in=rungs).order_by("-member_count", "id").first()


async def _every_customer(group_id: int, rule: dict) -> RungPreview:
    """preview_rung_rule's answer from the plan of every customer (as it was before issue 20)."""
    ladder_id = (await ladder_ids_by_rung())[group_id]
    ladder = await load_ladder(ladder_id=ladder_id)
    assert ladder is not None
    draft = with_rule(ladder, group_id=group_id, rule=parse_rule(rule))
    run = await ladders._preview(draft, now=now_for_rules(), samples=True, overlap=False, everyone=True)
    return RungPreview(ladder_id=ladder.id, ladder_name=ladder.name, moves=run.moves_of(group_id), run=run)


def _wider(rule: dict) -> dict:
    """The rule with its first "at least" amount lowered by a third: more customers match."""
    conditions = [dict(c) for c in rule["conditions"]]
    for condition in conditions:
        if condition.get("op") in ("gte", "gt") and isinstance(condition.get("value"), int):
            condition["value"] = condition["value"] * 2 // 3
            break
    return {**rule, "conditions": conditions}


async def _timed(call: Callable[[], Awaitable], wall: list[float], cpu: list[float]) -> None:
    for _ in range(PER_ROUND):
        started, used = time.perf_counter(), time.process_time()
        await call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)


async def bench(path: Path) -> None:
    await open_database(database_url=f"sqlite://{path}")
    try:
        rung = await _ladder_rung()
        rungs = list(await ladder_ids_by_rung())
        plain = await CustomerGroup.filter(type=GroupType.AUTOMATIC, id__not_in=rungs).order_by("-member_count").first()
        assert plain is not None, "the shop has an automatic group on no ladder"
        draft = _wider(rung.rule)
        print(f"Rung: {rung.name} ({rung.member_count:,} members); baseline: {plain.name} ({plain.member_count:,})")
        for rule, label in ((rung.rule, "saved rule"), (draft, "draft")):
            fast = await preview_rung_rule(group_id=rung.id, rule=rule)
            assert fast == await _every_customer(rung.id, rule), f"the {label}'s previews differ"
            print(f"  {label}: {fast.words()}")
        calls = {
            f"baseline: preview_rule, {plain.name}": lambda: preview_rule(rule=plain.rule, group_id=plain.id),
            "rung, saved rule, every customer planned": lambda: _every_customer(rung.id, rung.rule),
            "rung, saved rule (the page's first)": lambda: preview_rung_rule(group_id=rung.id, rule=rung.rule),
            "rung, draft, every customer planned": lambda: _every_customer(rung.id, draft),
            "rung, draft": lambda: preview_rung_rule(group_id=rung.id, rule=draft),
        }
        for call in calls.values():
            for _ in range(WARM_UP):
                await call()
        wall: dict[str, list[float]] = {name: [] for name in calls}
        cpu: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(ROUNDS):
            for name, call in calls.items():
                await _timed(call, wall[name], cpu[name])
        print(
            f"\n{'':45s} {'wall median':>11s} {'p95':>7s} {'CPU median':>11s} {'p95':>7s}  (ms, {ROUNDS * PER_ROUND} calls)"
        )
        for name in calls:
            w, c = wall[name], cpu[name]
            print(f"{name:45s} {statistics.median(w):11.1f} {p95(w):7.1f} {statistics.median(c):11.1f} {p95(c):7.1f}")
        baseline = statistics.median(cpu[next(iter(calls))])
        first = statistics.median(cpu["rung, saved rule (the page's first)"])
        before = statistics.median(cpu["rung, saved rule, every customer planned"])
        print(
            f"\nThe page's first rung preview: {first / baseline:.1f}x a plain group's preview (CPU), {before / baseline:.1f}x before"
        )
        scale = f"{SHOP.label}, {rung.name}"
        record(
            "rung_preview",
            "rung preview, saved rule (CPU median)",
            first,
            "ms",
            scale=scale,
            baseline=baseline,
            baseline_is="plain group's preview",
        )
    finally:
        await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, help="a shop file to copy instead of the cached 10,000-customer shop")
    args = parser.parse_args()
    if args.path:
        with _copy_of(args.path) as path:
            asyncio.run(bench(path))
        return
    build_or_reuse(SHOP)
    with scratch_copy(SHOP) as path:
        asyncio.run(bench(path))


@contextmanager
def _copy_of(source: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="customer-groups-bench-") as directory:
        copy = Path(directory) / source.name
        shutil.copyfile(source, copy)
        yield copy


if __name__ == "__main__":
    main()

"""Two runs of a ladder in the same second (a save and its Undo): the group page's last run is the
second one only, its moves and its names (issue 22). Runs are timed in whole seconds, so each run
carries its own id on its events."""

from datetime import UTC, datetime, timedelta

from models.customer import Customer
from services.groups.group import create_group
from services.rules.ladder_setup import get_ladder
from services.rules.ladders import run_ladder
from services.rules.preview import last_rung_moves
from services.rules.runs import apply_rule, last_run_changes
from tests.unit.ladder_shop import OWNER, at_least, customer, gold_and_silver


async def test_the_last_of_two_runs_in_one_second_is_that_run_alone(db):
    ana, ben = await customer("Ana A", 10_000), await customer("Ben B", 9_000)
    ladder_id, rungs = await gold_and_silver()
    second = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)

    # The first run: Ana moves up to Gold.
    await Customer.filter(id=ana).update(lifetime_cents=25_000_00)
    first = await run_ladder(ladder_id=ladder_id, actor=OWNER, now=second)
    assert first.moves_of(rungs["GOLD"]).words() == "+1 up from Silver Tier"
    # Undone in the same second: Ben moves up instead, Ana back down.
    await Customer.filter(id=ana).update(lifetime_cents=10_000_00)
    await Customer.filter(id=ben).update(lifetime_cents=30_000_00)
    run = await run_ladder(ladder_id=ladder_id, actor=OWNER, now=second)
    assert run.ran_at == first.ran_at and run.run_id != first.run_id

    view = await get_ladder(group_id=ladder_id)
    assert view.last_run_at == second
    assert sorted((s.from_name, s.to_name, s.direction, s.customers) for s in view.last_moves) == [
        ("Gold Tier", "Silver Tier", "down", 1),
        ("Silver Tier", "Gold Tier", "up", 1),
    ], "the second run moved one each way; the first run's move up is not counted again"

    gold = await last_rung_moves(group_id=rungs["GOLD"])
    assert gold.words() == "+1 up from Silver Tier, -1 down to Silver Tier"
    assert [c.name for c in gold.up_from[0].sample] == ["Ben B"], "Ana's move up was the first run's"
    assert [c.name for c in gold.down_to[0].sample] == ["Ana A"]

    changes = await last_run_changes(group_id=rungs["GOLD"])
    assert [c.name for c in changes.joined] == ["Ben B"]
    assert [c.name for c in changes.left] == ["Ana A"]


async def test_a_plain_groups_last_run_in_the_same_second_as_another_names_its_own_changes(db):
    ana, ben = await customer("Ana A", 25_000), await customer("Ben B", 9_000)
    data = {"name": "VIP", "code": "VIP", "type": "automatic", "rule": at_least(20_000)}
    vip = (await create_group(data=data, actor=OWNER)).id
    second = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    await Customer.filter(id=ana).update(lifetime_cents=10_000_00)
    await apply_rule(group_id=vip, actor=OWNER, now=second)  # Ana leaves
    await Customer.filter(id=ben).update(lifetime_cents=30_000_00)
    await apply_rule(group_id=vip, actor=OWNER, now=second)  # Ben joins, in the same second

    changes = await last_run_changes(group_id=vip)
    assert [c.name for c in changes.joined] == ["Ben B"]
    assert changes.left == (), "Ana left in the run before"

"""A rung's last run, as its group page lists it (issue 22): the customers under each move, by name,
read from the run's events; and running a rung's rule runs its whole ladder."""

from datetime import UTC, datetime, timedelta

from models.customer import Customer
from models.group import Membership
from services.rules.preview import last_rung_moves
from services.rules.runs import apply_rule
from tests.unit.ladder_shop import OWNER, customer, gold_and_silver


async def test_running_a_rung_moves_customers_along_its_ladder_and_names_them_by_move(db):
    ana, ben, cy, dot = [
        await customer(n, d) for n, d in (("Ana A", 25_000), ("Ben B", 10_000), ("Cy C", 21_000), ("Dot D", 9_000))
    ]
    rungs = (await gold_and_silver())[1]
    # Their purchases changed outside an order: Ben up to Gold, Ana down to Silver, Dot off the
    # ladder; Eve is new to it.
    await Customer.filter(id=ben).update(lifetime_cents=30_000_00)
    await Customer.filter(id=ana).update(lifetime_cents=9_000_00)
    await Customer.filter(id=dot).update(lifetime_cents=100_00)
    eve = await customer("Eve E", 22_000)

    # A run is known by its moment, in whole seconds: this one comes a minute after the ladder was made.
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    run = await apply_rule(group_id=rungs["GOLD"], actor=OWNER, now=later)

    assert run.ladder is not None, "a rung's rule runs its ladder"
    assert (
        run.ladder.moves_of(rungs["GOLD"]).words()
        == "+1 up from Silver Tier, +1 new to the ladder, -1 down to Silver Tier"
    )
    assert run.ladder.moves_of(rungs["SILVER"]).words() == (
        "+1 down from Gold Tier, -1 up to Gold Tier, -1 off the ladder"
    ), "Silver's customers moved too, in the same run"
    assert sorted(await Membership.filter(group_id=rungs["GOLD"]).values_list("customer_id", flat=True)) == sorted(
        [ben, cy, eve]
    )

    gold = await last_rung_moves(group_id=rungs["GOLD"])
    assert [c.name for c in gold.up_from[0].sample] == ["Ben B"]
    assert [c.name for c in gold.new.sample] == ["Eve E"]
    assert [c.name for c in gold.down_to[0].sample] == ["Ana A"]
    silver = await last_rung_moves(group_id=rungs["SILVER"])
    assert [c.name for c in silver.down_from[0].sample] == ["Ana A"]
    assert [c.name for c in silver.off.sample] == ["Dot D"]

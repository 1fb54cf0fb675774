"""A ladder's planned placement, read in SQL (what a rung's cost line reckons from): its moves onto
and off a rung are the ones the preview counts, and planning changes nobody's rung (issue 22)."""

from models.group import Membership
from services.rules.ladders import load_ladder, planned_placement, preview_ladder, with_rule
from services.storage.sql import fetch_rows
from tests.unit.ladder_shop import at_least, customer, gold_and_silver


async def test_a_planned_placement_moves_the_customers_the_preview_counts_and_changes_nothing(db):
    for name, dollars in (("Ana A", 16_000), ("Ben B", 12_000), ("Cy C", 25_000), ("Dot D", 3_000)):
        await customer(name, dollars)
    parent_id, rungs = await gold_and_silver()
    before = sorted(await Membership.all().values_list("group_id", "customer_id"))

    # A draft: Gold from $15,000 takes Ana up from Silver.
    draft = with_rule(await load_ladder(ladder_id=parent_id), group_id=rungs["GOLD"], rule=at_least(15_000))
    async with planned_placement(ladder=draft) as plan:
        rows = await fetch_rows(
            plan.connection,
            f"WITH m(customer_id, from_pos, to_pos) AS ({plan.rung_moves_sql(group_id=rungs['GOLD'])}) "
            "SELECT c.name, m.from_pos, m.to_pos FROM m JOIN customer c ON c.id = m.customer_id",
        )

    assert [(r["name"], r["from_pos"], r["to_pos"]) for r in rows] == [("Ana A", 2, 1)], "up from rung 2 to rung 1"
    preview = await preview_ladder(ladder=draft)
    assert preview.moves_of(rungs["GOLD"]).words() == "+1 up from Silver Tier"
    assert sorted(await Membership.all().values_list("group_id", "customer_id")) == before

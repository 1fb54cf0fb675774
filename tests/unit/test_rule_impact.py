"""Before a rule is saved: what the joiners' discount would have cost over the last year, and which
other pricing groups they already sit in. For a rung of a ladder: what its moves change, a customer
moving up from Silver Tier (5% off) to Gold Tier (10% off) costing the difference."""

from datetime import UTC, datetime, timedelta

from models.customer import Customer, Order, OrderLine, OrderStatus
from models.group import CustomerGroup, Membership
from services.benefits.sections import effective_benefits, save_benefits
from services.groups.group import create_group
from services.membership.changes import AddMode, add_members
from services.rules.clock import months_before
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.impact import Collision, draft_pricing, rule_impact
from services.rules.model import parse_rule
from services.rules.preview import preview_rule
from tests.unit.ladder_shop import OWNER, at_least

WIDER_GOLD = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 1_000_000}]}


async def _joiners(group: CustomerGroup | None, rule: dict) -> set[int]:
    now = now_for_rules()
    matches = set(await Customer.filter(to_q(parse_rule(rule), now=now)).values_list("id", flat=True))
    members = set(await Membership.filter(group_id=group.id).values_list("customer_id", flat=True)) if group else set()
    return matches - members


async def _spent(customers: set[int]) -> int:
    since = months_before(now_for_rules(), 12)
    totals = await Order.filter(
        customer_id__in=customers, status=OrderStatus.COMPLETED, placed_at__gte=since
    ).values_list("total_cents", flat=True)
    return sum(totals)


async def test_a_percentage_discount_costs_that_share_of_the_joiners_last_year(demo_db):
    vip = await CustomerGroup.get(code="VIP")  # no rung of a ladder: its joiners are new to its prices
    joiners = await _joiners(vip, WIDER_GOLD)
    benefits = await draft_pricing(group_id=vip.id, parent_id=None, own={"type": "percentage", "percent": 10})
    preview = await preview_rule(rule=WIDER_GOLD, group_id=vip.id)
    assert preview.change.joining == len(joiners) > 0

    impact = await rule_impact(rule=WIDER_GOLD, group_id=vip.id, benefits=benefits, joiners=len(joiners))

    spent = await _spent(joiners)
    assert impact.purchases_cents == spent > 0
    assert impact.yearly_cost_cents == round(spent * 10 / 100)


async def test_joiners_already_in_another_pricing_group_are_counted_by_group(demo_db):
    vip = await CustomerGroup.get(code="VIP")
    joiners = await _joiners(vip, WIDER_GOLD)
    benefits = await draft_pricing(group_id=vip.id, parent_id=None, own={"type": "percentage", "percent": 10})
    impact = await rule_impact(rule=WIDER_GOLD, group_id=vip.id, benefits=benefits, joiners=len(joiners))

    for collision in impact.collisions:
        other = await effective_benefits(group_id=collision.group_id)
        assert other.value("pricing", "type") not in (None, "none")
        members = set(await Membership.filter(group_id=collision.group_id).values_list("customer_id", flat=True))
        assert collision.customers == len(members & joiners) > 0
    silver = await CustomerGroup.get(code="SILVER")
    silver_members = set(await Membership.filter(group_id=silver.id).values_list("customer_id", flat=True))
    if silver_members & joiners and (await effective_benefits(group_id=silver.id)).value("pricing", "percent"):
        assert silver.name in [c.group_name for c in impact.collisions]


async def test_a_fixed_amount_per_unit_costs_at_most_what_the_units_cost(demo_db):
    rule = {"match": "all", "conditions": [{"field": "order_count", "op": "gte", "value": 1}]}
    joiners = await _joiners(None, rule)
    benefits = await draft_pricing(group_id=None, parent_id=None, own={"type": "fixed", "fixed_cents": 100})
    impact = await rule_impact(rule=rule, group_id=None, benefits=benefits, joiners=len(joiners))

    since = months_before(now_for_rules(), 12)
    lines = await OrderLine.filter(
        order__customer_id__in=joiners, order__status=OrderStatus.COMPLETED, order__placed_at__gte=since
    ).values_list("quantity", "price_cents")
    assert impact.yearly_cost_cents == min(sum(q * p for q, p in lines), 100 * sum(q for q, _ in lines))


async def test_a_group_without_special_prices_has_no_cost_and_no_collisions(demo_db):
    benefits = await draft_pricing(group_id=None, parent_id=None, own={})
    impact = await rule_impact(rule=WIDER_GOLD, group_id=None, benefits=benefits, joiners=10)
    assert impact.prices is False and impact.yearly_cost_cents is None and impact.collisions == []


# --- A rung of a ladder -----------------------------------------------------------------------


async def _spend(name: str, lifetime: int, last_year: int) -> int:
    """A customer with `lifetime` dollars of purchases, `last_year` of them in one recent order."""
    row = await Customer.create(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
        lifetime_cents=lifetime * 100,
        order_count=1,
    )
    await Order.create(
        customer_id=row.id, placed_at=datetime.now(UTC) - timedelta(days=30), total_cents=last_year * 100
    )
    return row.id


async def _tiers() -> dict[str, int]:
    """Gold Tier from $20,000 at 10% off, Silver Tier from $8,000 at 5% off, Bronze Tier from $2,000
    with no discount, under the ladder Tiered Customers: overlapping rules, one rung each."""
    parent = await create_group(data={"name": "Tiered Customers", "code": "TIERED"}, actor=OWNER)
    await CustomerGroup.filter(id=parent.id).update(is_ladder=True)
    rungs = {}
    for position, (name, code, dollars, percent) in enumerate(
        (("Gold Tier", "GOLD", 20_000, 10), ("Silver Tier", "SILVER", 8_000, 5), ("Bronze Tier", "BRONZE", 2_000, 0)),
        start=1,
    ):
        data = {"name": name, "code": code, "type": "automatic", "rule": at_least(dollars), "parent_id": parent.id}
        rungs[code] = (await create_group(data=data, actor=OWNER)).id
        await CustomerGroup.filter(id=rungs[code]).update(rung=position)
        if percent:
            pricing = {"type": "percentage", "percent": percent, "scope": "all"}
            await save_benefits(group_id=rungs[code], sections={"pricing": pricing}, actor=OWNER)
    return rungs


async def _impact(rungs: dict[str, int], code: str, rule: dict):
    benefits = await effective_benefits(group_id=rungs[code])
    preview = await preview_rule(rule=rule, group_id=rungs[code])
    impact = await rule_impact(
        rule=rule, group_id=rungs[code], benefits=benefits, joiners=preview.ladder.moves.arriving
    )
    return preview, impact


async def test_moving_up_from_silver_costs_the_difference_between_the_tiers(db):
    await _spend("Ana A", 25_000, 1_000)
    await _spend("Ben B", 16_000, 2_000)
    rungs = await _tiers()

    preview, impact = await _impact(rungs, "GOLD", at_least(15_000))

    assert preview.ladder.words() == "+1 up from Silver Tier"
    assert impact.joiners == 1
    assert impact.yearly_cost_cents == 200_00 - 100_00, "10% of Ben's $2,000, less the 5% Silver gave him"
    assert impact.purchases_cents == 2_000_00
    assert impact.moves_words() == "1 moves up from Silver Tier (5% → 10% off)"
    assert impact.cost_note == "their completed orders of the last 12 months"


async def test_moving_down_is_a_saving(db):
    await _spend("Ana A", 25_000, 1_000)
    rungs = await _tiers()

    preview, impact = await _impact(rungs, "GOLD", at_least(30_000))

    assert preview.ladder.words() == "-1 down to Silver Tier"
    assert impact.joiners == 0
    assert impact.yearly_cost_cents == -(100_00 - 50_00)
    assert impact.moves_words() == "1 moves down to Silver Tier (10% → 5% off)"


async def test_a_lower_rung_counts_its_arrivals_not_matches_a_higher_rung_keeps(db):
    await _spend("Ana A", 25_000, 1_000)
    await _spend("Ben B", 16_000, 2_000)
    await _spend("Cy C", 9_000, 500)
    await _spend("Dee D", 60_000, 3_000)
    await _spend("Eve E", 1_000, 400)
    rungs = await _tiers()

    # Silver from $12,000 matches Ana and Dee too, whom Gold keeps; Cy falls to Bronze.
    preview, impact = await _impact(rungs, "SILVER", at_least(12_000))

    assert preview.change.joining == 2, "the group's own view: matches less members"
    assert preview.ladder.words() == "-1 down to Bronze Tier"
    assert impact.joiners == 0
    assert impact.yearly_cost_cents == -25_00, "Cy's 5% of $500 is no longer given"
    assert impact.moves_words() == "1 moves down to Bronze Tier (no longer 5% off)"

    # Bronze from $400 takes Eve, new to the ladder; Bronze gives no discount.
    preview, impact = await _impact(rungs, "BRONZE", at_least(400))
    assert preview.ladder.words() == "+1 new to the ladder"
    assert (impact.joiners, impact.prices, impact.moves) == (1, False, ())


async def test_new_to_the_ladder_costs_the_whole_discount_and_other_groups_collide_but_rungs_do_not(db):
    await _spend("Ben B", 16_000, 2_000)
    eve = await _spend("Eve E", 1_000, 400)
    rungs = await _tiers()
    vip = await create_group(data={"name": "VIP", "code": "VIP"}, actor=OWNER)
    await save_benefits(group_id=vip.id, sections={"pricing": {"type": "percentage", "percent": 15}}, actor=OWNER)
    await add_members(group_id=vip.id, customer_ids=[eve], mode=AddMode.ADD, actor=OWNER)

    preview, impact = await _impact(rungs, "SILVER", at_least(500))

    assert preview.ladder.words() == "+1 new to the ladder"
    assert impact.yearly_cost_cents == 20_00
    assert impact.moves_words() == "1 new to the ladder (5% off)"
    assert impact.collisions == [Collision(vip.id, "VIP", 1)]

"""Before a rule is saved: what the joiners' discount would have cost over the last year, and which
other pricing groups they already sit in."""

from models.customer import Customer, Order, OrderLine, OrderStatus
from models.group import CustomerGroup, Membership
from services.benefits.sections import effective_benefits
from services.rules.clock import months_before
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.impact import draft_pricing, rule_impact
from services.rules.model import parse_rule
from services.rules.preview import preview_rule

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
    gold = await CustomerGroup.get(code="GOLD")
    joiners = await _joiners(gold, WIDER_GOLD)
    benefits = await draft_pricing(group_id=gold.id, parent_id=None, own={"type": "percentage", "percent": 10})
    preview = await preview_rule(rule=WIDER_GOLD, group_id=gold.id)
    assert preview.change.joining == len(joiners) > 0

    impact = await rule_impact(rule=WIDER_GOLD, group_id=gold.id, benefits=benefits, joiners=len(joiners))

    spent = await _spent(joiners)
    assert impact.purchases_cents == spent > 0
    assert impact.yearly_cost_cents == round(spent * 10 / 100)


async def test_joiners_already_in_another_pricing_group_are_counted_by_group(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    joiners = await _joiners(gold, WIDER_GOLD)
    benefits = await draft_pricing(group_id=gold.id, parent_id=None, own={"type": "percentage", "percent": 10})
    impact = await rule_impact(rule=WIDER_GOLD, group_id=gold.id, benefits=benefits, joiners=len(joiners))

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

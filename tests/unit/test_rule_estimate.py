"""A big shop's preview answers first with an estimate counted on a sample of customers ("about
230,000"), then with the exact figures. At small scale both paths are forced here: the estimate over
every customer is the exact preview, and the shortcuts the exact preview takes at scale (counts
past an index, leavers walked by name, conditions checked by key) change none of its figures."""

import pytest

from models.customer import Customer
from models.group import CustomerGroup, MembershipExclusion
from services.rules import preview as rule_preview
from services.rules.compiler import by_key, to_q
from services.rules.explainer import now_for_rules
from services.rules.model import Condition, parse_rule, walk
from services.rules.preview import estimate_rule, preview_rule, rule_funnel
from services.wording import about

RULES = {
    "seed 003": {
        "match": "all",
        "conditions": [
            {"field": "total_purchases", "op": "gt", "value": 3_000_000},
            {"field": "account_age_months", "op": "gt", "value": 12},
        ],
    },
    "ANY group over a wide date range": {
        "match": "all",
        "conditions": [
            {"field": "days_since_last_order", "op": "lte", "value": 365},
            {
                "match": "any",
                "conditions": [
                    {"field": "payment_rating", "op": "eq", "value": "excellent"},
                    {"field": "tags", "op": "has_any", "value": ["wholesale"]},
                    {"field": "order_count", "op": "gte", "value": 5},
                ],
            },
        ],
    },
    "half the shop": {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 300_000}]},
    "tags and country": {
        "match": "all",
        "conditions": [
            {"field": "tags", "op": "has_none", "value": ["wholesale"]},
            {"field": "country", "op": "in", "value": ["US", "GB", "CA"]},
        ],
    },
    "groups and recent purchases": {
        "match": "any",
        "conditions": [
            {"field": "member_of", "op": "not_in", "value": [1]},
            {"field": "purchases_recent", "op": "lt", "value": 50_000, "months": 6},
        ],
    },
}


def _figures(preview) -> tuple:
    change = preview.change
    return (
        preview.matching,
        preview.total_customers,
        change.joining,
        change.leaving,
        [s.customer_id for s in preview.samples],
        [s.customer_id for s in change.joining_samples],
        [s.customer_id for s in change.leaving_samples],
    )


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
@pytest.mark.parametrize("group_code", ["VIP", "RETAIL"])
@pytest.mark.parametrize("stride", [False, True], ids=["whole shop", "a stride of one"])
async def test_the_estimate_over_every_customer_is_the_exact_preview(demo_db, rule, group_code, stride):
    group = await CustomerGroup.get(code=group_code)
    now = now_for_rules()
    exact = await preview_rule(rule=rule, group_id=group.id, now=now)
    shop = await Customer.all().count()
    # One fewer than the customers: the sample's own statements, on a stride that takes every id.
    sample = shop - 1 if stride else shop

    estimate = await estimate_rule(rule=rule, group_id=group.id, now=now, sample=sample)

    assert estimate.estimated and not exact.estimated
    assert estimate.sampled == shop
    assert (estimate.matching, estimate.change.joining, estimate.change.leaving) == (
        exact.matching,
        exact.change.joining,
        exact.change.leaving,
    )
    assert estimate.samples == [] and estimate.change.joining_samples == []  # names come with the exact figures


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
async def test_a_sampled_estimate_is_scaled_to_the_shop(demo_db, rule):
    now = now_for_rules()
    retail = await CustomerGroup.get(code="RETAIL")
    exact = await preview_rule(rule=rule, group_id=retail.id, now=now)

    sample = exact.total_customers // 4

    estimate = await estimate_rule(rule=rule, group_id=retail.id, now=now, sample=sample)

    assert estimate.estimated and estimate.sampled < exact.total_customers
    assert estimate.total_customers == exact.total_customers
    # A share counted on a quarter of the customers (every fourth): near the exact one.
    assert abs(estimate.sampled - sample) <= 1
    assert 0 <= estimate.matching <= estimate.total_customers
    assert abs(estimate.share - exact.share) < 0.2


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
async def test_the_shortcuts_of_a_big_shop_change_no_figure(demo_db, monkeypatch, rule):
    vip = await CustomerGroup.get(code="VIP")
    outsider = await Customer.filter(lifetime_cents__gt=3_000_000).order_by("name").first()
    await MembershipExclusion.get_or_create(group=vip, customer=outsider, defaults={"at": now_for_rules()})
    now = now_for_rules()
    plain = {
        code: await preview_rule(rule=rule, group_id=(await CustomerGroup.get(code=code)).id, now=now)
        for code in ("VIP", "RETAIL")
    }
    funnel = [s.customers for s in await rule_funnel(rule=rule, now=now)]

    # As on a million customers: a sample decides which counts scan past an index (here every
    # condition passed by more than none of the sample), and every set is walked by name.
    monkeypatch.setattr(rule_preview, "WIDE_SAMPLE", 50)
    monkeypatch.setattr(rule_preview, "WIDE", 0.0)
    monkeypatch.setattr(rule_preview, "SMALL_SET", 0)
    wide = await rule_preview._wide_columns(parse_rule(rule), now=now, db=Customer._meta.db)
    fields = {c.field for _, c in walk(parse_rule(rule)) if isinstance(c, Condition)}
    if Customer._meta.db.capabilities.dialect == "sqlite":  # PostgreSQL's planner keeps statistics itself
        # A rule on one column keeps its index (it holds all the count needs).
        assert bool(wide) == (len(fields) > 1 and bool(fields & {"total_purchases", "days_since_last_order"}))
    for code, before in plain.items():
        group = await CustomerGroup.get(code=code)
        assert _figures(await preview_rule(rule=rule, group_id=group.id, now=now)) == _figures(before)
    assert [s.customers for s in await rule_funnel(rule=rule, now=now, matching=plain["VIP"].matching)] == funnel
    assert [s.customers for s in await rule_funnel(rule=rule, now=now)] == funnel


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
async def test_conditions_checked_by_key_pick_the_same_customers(demo_db, rule):
    now = now_for_rules()
    parsed = parse_rule(rule)
    listed = set(await Customer.filter(to_q(parsed, now=now)).values_list("id", flat=True))
    with by_key():
        keyed = to_q(parsed, now=now)
    assert set(await Customer.filter(keyed).values_list("id", flat=True)) == listed


def test_an_estimate_is_worded_as_one():
    assert about(225_123) == "about 230,000"
    assert about(37_499) == "about 37,000"
    assert about(1_234_567) == "about 1,200,000"
    assert about(86) == "about 86"
    assert about(0) == "about 0"

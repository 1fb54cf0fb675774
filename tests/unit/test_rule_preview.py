"""The preview: what a rule matches, and who it would add to or take out of a group today."""

import pytest

from models.customer import Customer
from models.group import CustomerGroup, Membership, MembershipExclusion, MembershipSource
from services.rules import preview as rule_preview
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.model import parse_rule
from services.rules.preview import list_matches, preview_rule, rule_funnel

WIDER_VIP = {
    "match": "all",
    "conditions": [
        {"field": "total_purchases", "op": "gt", "value": 3_000_000},
        {"field": "account_age_months", "op": "gt", "value": 12},
    ],
}


async def _expected_change(group: CustomerGroup, rule: dict) -> tuple[set[int], set[int]]:
    matches = set(await Customer.filter(to_q(parse_rule(rule), now=now_for_rules())).values_list("id", flat=True))
    members = dict(await Membership.filter(group_id=group.id).values_list("customer_id", "source"))
    excluded = set(await MembershipExclusion.filter(group_id=group.id).values_list("customer_id", flat=True))
    joining = matches - members.keys() - excluded
    leaving = {i for i, source in members.items() if source == MembershipSource.RULE and i not in matches}
    return joining, leaving


@pytest.mark.parametrize("small_set", [True, False], ids=["sorted here", "walked by name"])
async def test_joiners_and_leavers_are_what_applying_the_rule_would_do(demo_db, monkeypatch, small_set):
    if not small_set:
        monkeypatch.setattr(rule_preview, "SMALL_SET", 0)
    vip = await CustomerGroup.get(code="VIP")
    outsider = await Customer.filter(lifetime_cents__gt=3_000_000, lifetime_cents__lt=5_000_000).first()
    await MembershipExclusion.create(group=vip, customer=outsider, at=now_for_rules())
    joining, leaving = await _expected_change(vip, WIDER_VIP)
    assert joining and outsider.id not in joining

    preview = await preview_rule(rule=WIDER_VIP, group_id=vip.id)

    assert preview.change.joining == len(joining)
    assert preview.change.leaving == len(leaving)
    names = sorted(await Customer.filter(id__in=joining).values_list("name", "id"))
    assert [s.name for s in preview.change.joining_samples] == [n for n, _ in names[:5]]
    names = sorted(await Customer.filter(id__in=leaving).values_list("name", "id"))
    assert [s.name for s in preview.change.leaving_samples] == [n for n, _ in names[:5]]


async def test_an_automatic_group_loses_everyone_the_new_rule_does_not_match(demo_db):
    gold = await CustomerGroup.get(code="GOLD")
    narrower = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 4_000_000}]}
    joining, _ = await _expected_change(gold, narrower)
    members = set(await Membership.filter(group_id=gold.id).values_list("customer_id", flat=True))
    matches = set(await Customer.filter(lifetime_cents__gte=4_000_000).values_list("id", flat=True))
    preview = await preview_rule(rule=narrower, group_id=gold.id)
    assert preview.change.leaving == len(members - matches) > 0
    assert preview.change.joining == len(joining)


async def test_the_first_matches_come_by_name_with_what_the_rule_read(demo_db):
    rule = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 2_000_000}]}
    preview = await preview_rule(rule=rule)
    matches = await Customer.filter(lifetime_cents__gte=2_000_000).order_by("name", "id").values_list("name", flat=True)
    assert preview.matching == len(matches)
    assert preview.total_customers == await Customer.all().count()
    assert [s.name for s in preview.samples] == list(matches[:10])
    assert all(s.check.passed for s in preview.samples)
    second = await list_matches(rule=rule, page=2, per_page=10)
    assert [row.name for row in second.rows] == list(matches[10:20])


async def test_the_funnel_narrows_condition_by_condition(demo_db):
    rule = {
        "match": "all",
        "conditions": [
            {"field": "total_purchases", "op": "gte", "value": 800_000},
            {"field": "payment_rating", "op": "eq", "value": "excellent"},
        ],
    }
    steps = await rule_funnel(rule=rule)
    assert [s.customers for s in steps] == [
        await Customer.filter(lifetime_cents__gte=800_000).count(),
        await Customer.filter(lifetime_cents__gte=800_000, payment_rating="excellent").count(),
    ]

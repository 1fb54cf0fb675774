"""The Rules step: an owner builds a rule and watches the preview follow (NiceGUI's simulated user)."""

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer, PaymentRating
from models.group import CustomerGroup, Membership, RuleVersion
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.ladder_setup import turn_off_ladder
from services.rules.model import parse_rule
from services.staff.actor import SYSTEM
from tests.ui.finding import until

PREVIEW = 30  # retries of 0.1 s: the preview waits for typing to settle before it asks


def _value(user: User, mark: str):
    return user.find(mark).elements.pop()


async def _set(user: User, mark: str, value, kind: type = ui.element) -> None:
    """Set an input once it is on the page; the builder redraws after a change of structure, so
    `kind` waits for the input that fits the new field (a select rather than an amount)."""
    await user.should_see(kind=kind, marker=mark)
    _value(user, mark).value = value


def _steps(user: User) -> set[str]:
    return {step.props.get("name") for step in user.find(ui.step).elements}


async def _new_rule_group(user: User, name: str, kind: str = "automatic") -> None:
    await user.open("/groups/new")
    user.find("name").type(name)
    _value(user, "type").value = kind
    assert await until(lambda: "Rules" in _steps(user))  # the type choice redraws the steps
    # On to the Rules step (the simulated user cannot run the stepper's own "next" in a browser); a
    # step's content is drawn when it is first shown.
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("Conditions")


async def test_a_manual_group_has_no_rules_step_and_a_rule_based_one_does(user: User):
    await user.open("/groups/new")
    assert "Rules" not in _steps(user)
    user.find("name").type("Either way")
    _value(user, "type").value = "hybrid"
    assert await until(lambda: "Rules" in _steps(user))
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("Conditions")
    await user.should_see("customers you add or remove by hand stay that way")
    user.find(ui.stepper).elements.pop().value = "Basic information"
    assert await until(lambda: user.find(ui.stepper).elements.pop().value == "Basic information")
    _value(user, "type").value = "manual"
    assert await until(lambda: "Rules" not in _steps(user))
    await user.should_not_see("Conditions")


async def test_the_preview_counts_what_the_rule_matches(user: User):
    await _new_rule_group(user, "Big buyers")
    await user.should_see("Complete the rule to see who it matches", retries=PREVIEW)
    await _set(user, "rule-value-0", 20_000)  # Total Purchases is at least $20,000
    expected = await Customer.filter(lifetime_cents__gte=2_000_000).count()
    total = await Customer.all().count()
    await user.should_see(f"{expected:,}", marker="preview-count", retries=PREVIEW)
    await user.should_see(f"{expected:,} of {total:,} customers", retries=PREVIEW)
    await user.should_see("View Matching Customers")


async def test_adding_a_condition_narrows_the_preview_and_saving_sets_the_members(user: User):
    await _new_rule_group(user, "Big and excellent")
    await _set(user, "rule-value-0", 20_000)
    user.find("rule-add-condition").click()
    await _set(user, "rule-field-1", "payment_rating")
    await _set(user, "rule-op-1", "eq")
    await _set(user, "rule-value-1", "excellent", ui.select)
    expected = await Customer.filter(lifetime_cents__gte=2_000_000, payment_rating=PaymentRating.EXCELLENT).count()
    await user.should_see(f"{expected:,}", marker="preview-count", retries=PREVIEW)
    user.find("Create group").click()
    await user.should_see("Created Big and excellent", retries=PREVIEW)
    group = await CustomerGroup.get(name="Big and excellent")
    members = set(await Membership.filter(group_id=group.id).values_list("customer_id", flat=True))
    matches = set(await Customer.filter(to_q(parse_rule(group.rule), now=now_for_rules())).values_list("id", flat=True))
    assert members == matches and len(members) == expected
    assert await RuleVersion.filter(group_id=group.id).count() == 1


async def test_a_template_fills_the_builder(user: User):
    await _new_rule_group(user, "Wholesale by tag")
    user.find("Start from a template").click()
    user.find("template-wholesale-by-tag").click()
    await user.should_see(kind=ui.select, marker="rule-value-0")
    assert _value(user, "rule-field-0").value == "tags"
    assert _value(user, "rule-value-0").value == ["wholesale", "b2b"]
    await user.should_see("matching customers", retries=PREVIEW)


async def test_a_condition_without_a_value_is_refused_at_the_condition(user: User):
    await _new_rule_group(user, "Half a rule")
    user.find("Create group").click()
    await user.should_see("Please correct the highlighted fields.")
    await user.should_see("Enter a value.", marker="rule-value-0")
    assert not await CustomerGroup.filter(name="Half a rule").exists()


async def test_an_any_group_inside_the_rule(user: User):
    await _new_rule_group(user, "Key or excellent")
    await _set(user, "rule-value-0", 50_000)
    user.find("rule-add-group").click()
    await _set(user, "rule-field-1.0", "payment_rating")
    await _set(user, "rule-op-1.0", "eq")
    await _set(user, "rule-value-1.0", "excellent", ui.select)
    user.find("rule-add-condition-1").click()
    await _set(user, "rule-field-1.1", "tags")
    await _set(user, "rule-value-1.1", ["key-account"], ui.select)
    rule = parse_rule(
        {
            "match": "all",
            "conditions": [
                {"field": "total_purchases", "op": "gte", "value": 5_000_000},
                {
                    "match": "any",
                    "conditions": [
                        {"field": "payment_rating", "op": "eq", "value": "excellent"},
                        {"field": "tags", "op": "has_any", "value": ["key-account"]},
                    ],
                },
            ],
        }
    )
    expected = await Customer.filter(to_q(rule, now=now_for_rules())).count()
    await user.should_see(f"{expected:,}", marker="preview-count", retries=PREVIEW)
    user.find("rule-remove-1").click()
    await user.should_not_see(marker="rule-match-1")  # the nested group is gone
    await user.should_see(
        f"{await Customer.filter(lifetime_cents__gte=5_000_000).count():,}", marker="preview-count", retries=PREVIEW
    )


async def test_an_existing_group_shows_who_would_join_and_leave(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await turn_off_ladder(ladder_id=gold.parent_id, actor=SYSTEM)  # a group of its own (a rung previews moves)
    await user.open(f"/groups/{gold.id}/edit")
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("No one would join", retries=PREVIEW)
    await _set(user, "rule-value-0", 10_000)  # Gold from $10,000 instead of $20,000
    joining = await Customer.filter(lifetime_cents__gte=1_000_000, lifetime_cents__lt=2_000_000).count()
    await user.should_see(f"+{joining:,} would join", retries=PREVIEW)


async def test_the_rules_step_is_served_with_its_count_in_the_page(user: User):
    """A small shop's first preview is drawn into the page itself: the browser shows the count
    without waiting for its websocket to connect and ask."""
    group = await CustomerGroup.filter(type="automatic").order_by("id").first()
    expected = await Customer.filter(to_q(parse_rule(group.rule), now=now_for_rules())).count()
    page = await user.http_client.get(f"/groups/{group.id}/edit?step=rules")
    assert page.status_code == 200
    assert "matching customer" in page.text
    assert f"{expected:,} of {await Customer.all().count():,} customers" in page.text

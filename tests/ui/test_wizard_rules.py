"""The wizard around a rule: each step checks its own fields on Continue, an incomplete condition is
marked while the preview keeps its last figures, a rule that takes members out asks first and can
be undone, and the Review shows the rule in words with its count."""

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership, RuleVersion
from services.benefits.sections import save_benefits
from services.staff.actor import SYSTEM
from tests.ui.finding import one, step_in_view, until

PREVIEW = 30  # retries of 0.1 s: the preview waits for typing to settle before it asks


async def _open_the_rules_step(user: User) -> None:
    """Once the type choice has added the Rules step (the steps are redrawn), open it: its content is
    drawn when it is first shown."""
    assert await until(lambda: "Rules" in {step.props.get("name") for step in user.find(ui.step).elements})
    user.find(ui.stepper).elements.pop().value = "Rules"
    await user.should_see("Conditions")


async def test_continue_checks_the_basic_information_and_stays_on_the_step(user: User):
    await user.open("/groups/new")
    user.find("Continue").click()
    await user.should_see("Enter a group name.", marker="name")
    assert step_in_view(user) == "Basic information"

    user.find("name").type("Loyal Germans")
    one(user, "code").value = "no spaces!"
    user.find("Continue").click()
    assert await until(lambda: one(user, "code").error)
    assert one(user, "name").error is None
    assert step_in_view(user) == "Basic information"

    one(user, "code").value = "LOYAL-DE"
    user.find("Continue").click()
    assert await until(lambda: step_in_view(user) == "Pricing")


async def test_a_later_step_header_does_not_skip_the_checks_of_the_steps_before_it(user: User):
    await user.open("/groups/new")
    user.find(ui.stepper).elements.pop().value = "Review"  # as a click on the Review step's header
    await user.should_see("Enter a group name.", marker="name")
    assert await until(lambda: step_in_view(user) == "Basic information")

    user.find("name").type("Jump ahead")
    user.find(ui.stepper).elements.pop().value = "Review"
    assert await until(lambda: step_in_view(user) == "Review")
    user.find(ui.stepper).elements.pop().value = "Basic information"  # going back is never checked
    assert await until(lambda: step_in_view(user) == "Basic information")


async def test_continue_on_the_rules_step_refuses_an_incomplete_rule_at_the_empty_input(user: User):
    await user.open("/groups/new")
    user.find("name").type("Half a rule")
    one(user, "type").value = "automatic"
    await _open_the_rules_step(user)
    user.find("Continue").click()
    await user.should_see("Enter a value.", marker="rule-value-0")
    assert one(user, "rule-field-0").error is None  # only the empty input is marked
    assert step_in_view(user) == "Rules"


async def test_an_incomplete_condition_keeps_the_last_count_dimmed_and_marks_its_empty_value(user: User):
    await user.open("/groups/new")
    user.find("name").type("Big buyers")
    one(user, "type").value = "automatic"
    await _open_the_rules_step(user)
    one(user, "rule-value-0").value = 20_000
    expected = await Customer.filter(lifetime_cents__gte=2_000_000).count()
    await user.should_see(f"{expected:,}", marker="preview-count", retries=PREVIEW)

    user.find("rule-add-condition").click()
    await user.should_see("Enter a value.", marker="rule-value-1")
    await user.should_see("Showing the last complete rule", retries=PREVIEW)
    await user.should_see(f"{expected:,}", marker="preview-count")  # still there, dimmed
    assert "opacity-40" in one(user, "preview-body").classes

    one(user, "rule-value-1").value = 1_000_000  # and spent at least a million: nobody
    assert await until(lambda: "opacity-40" not in one(user, "preview-body").classes)
    assert one(user, "preview-count").text == "0"
    assert one(user, "rule-value-1").error is None


async def test_the_preview_draws_the_funnel_and_the_joiners_cost(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await save_benefits(group_id=gold.id, sections={"pricing": {"type": "percentage", "percent": 10}}, actor=SYSTEM)
    await user.open(f"/groups/{gold.id}/edit?step=rules")
    one(user, "rule-value-0").value = 10_000
    await user.should_see("up from Silver Tier", retries=PREVIEW)  # Gold is a rung: its joiners move up
    await user.should_see("All customers", marker="funnel-step-0", retries=PREVIEW)
    # Those moving up from Silver Tier cost Gold's 10% less the 5% they have.
    await user.should_see("up from Silver Tier (5% → 10% off)", marker="preview-cost", retries=PREVIEW)


async def test_a_stricter_rule_asks_first_then_saves_and_undo_brings_the_members_back(user: User):
    silver = await CustomerGroup.get(code="SILVER")
    await save_benefits(group_id=silver.id, sections={"pricing": {"type": "percentage", "percent": 5}}, actor=SYSTEM)
    before = set(await Membership.filter(group_id=silver.id).values_list("customer_id", flat=True))
    versions = await RuleVersion.filter(group_id=silver.id).count()
    await user.open(f"/groups/{silver.id}")
    user.find("edit-rule-header").click()
    await user.should_see("Conditions")
    assert step_in_view(user) == "Rules"

    threshold = sorted(await Customer.filter(id__in=before).values_list("lifetime_cents", flat=True))[len(before) // 2]
    one(user, "rule-value-0").value = threshold / 100
    await user.should_see("off the ladder", marker="preview-moves", retries=PREVIEW)  # Silver is a rung
    user.find("Save changes").click()
    await user.should_see(marker="confirm-leaving", retries=PREVIEW)
    await user.should_see("will leave Silver Tier and lose 5% off")
    assert set(await Membership.filter(group_id=silver.id).values_list("customer_id", flat=True)) == before

    user.find("confirm-save").click()
    await user.should_see(marker="rule-undo", retries=PREVIEW)
    after = set(await Membership.filter(group_id=silver.id).values_list("customer_id", flat=True))
    await user.should_see(f"Saved Silver Tier: -{len(before - after):,} off the ladder.")
    assert after < before

    user.find("undo-rule").click()
    await user.should_see("Undone: Silver Tier has its previous rule again", retries=PREVIEW)
    assert set(await Membership.filter(group_id=silver.id).values_list("customer_id", flat=True)) == before
    assert await RuleVersion.filter(group_id=silver.id).count() == versions + 2


async def test_a_template_asks_before_replacing_an_existing_rule(user: User):
    gold = await CustomerGroup.get(code="GOLD")
    await user.open(f"/groups/{gold.id}/edit?step=rules")
    await user.should_see("Conditions")
    user.find("Start from a template").click()
    user.find("template-wholesale-by-tag").click()
    await user.should_see("Replace this rule with")
    user.find("template-keep").click()
    assert one(user, "rule-field-0").value == "total_purchases"
    user.find("Start from a template").click()
    user.find("template-wholesale-by-tag").click()
    user.find("template-replace").click()
    await user.should_see(kind=ui.select, marker="rule-value-0")
    assert one(user, "rule-field-0").value == "tags"


async def test_the_review_shows_the_rule_in_words_and_how_many_match(user: User):
    await user.open("/groups/new")
    user.find("name").type("Big buyers")
    one(user, "type").value = "automatic"
    await _open_the_rules_step(user)
    one(user, "rule-value-0").value = 20_000
    user.find(ui.stepper).elements.pop().value = "Review"
    expected = await Customer.filter(lifetime_cents__gte=2_000_000).count()
    await user.should_see("Total Purchases (lifetime) is at least $20,000", marker="rule-text", retries=PREVIEW)
    await user.should_see(f"{expected:,}", marker="review-matching")
    await user.should_see("will match")

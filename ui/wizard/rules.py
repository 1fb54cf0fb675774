"""Wizard step "Rules" (automatic and hybrid groups): the rule builder beside its live preview."""

from nicegui import ui

from models.group import GroupType
from services.customers import list_tags
from services.groups.group import group_choices
from services.rules.impact import draft_pricing
from services.rules.model import RuleError, parse_rule
from services.rules.words import Wording
from services.shop import get_shop
from ui.groups.form import GroupForm
from ui.rules.builder import RuleBuilder, new_condition
from ui.rules.preview_panel import FirstCount, PreviewPanel

TITLE = "Rules"
ICON = "rule"
FIELDS = ("rule",)


def shown_for(form: GroupForm) -> bool:
    return form.type in (GroupType.AUTOMATIC.value, GroupType.HYBRID.value)


def prepare(form: GroupForm) -> None:
    """A group without a rule starts from the builder's first condition, drawn or not yet: the
    checks of a step header's jump and the Review see the rule the step will show."""
    if not form.rule:
        form.rule = {"match": "all", "conditions": [new_condition()]}


async def render(form: GroupForm, save) -> None:
    shop = await get_shop()
    groups = {c.id: c.name for c in await group_choices(exclude_id=form.group_id)}
    tags = await list_tags()
    # Asked for after the page's own reads (one SQLite connection answers them in turn) and before
    # the builder is drawn, which needs no database: the count runs while Python draws.
    first = FirstCount(rule=form.rule, group_id=form.group_id)
    wording = Wording(currency=shop.currency, group_names=groups)
    if form.type == GroupType.HYBRID.value:
        explanation = "Customers who match join automatically; customers you add or remove by hand stay that way."
    else:
        explanation = "The group's members are exactly the customers who match, kept current as their data changes."
    ui.label(explanation).classes("text-slate-600")

    def changed() -> None:
        form.rule = builder.rule
        form.clear_error("rule")
        builder.mark(rule_problems(builder.rule))
        preview.request()

    async def benefits():
        own = form.benefit_sections()["pricing"]
        return await draft_pricing(group_id=form.group_id, parent_id=form.parent_id, own=own)

    with ui.row().classes("w-full gap-4 items-start no-wrap max-lg:flex-wrap"):
        with ui.card().classes("flex-grow min-w-0 gap-2").mark("rule-builder"):
            builder = RuleBuilder(rule=form.rule, currency=shop.currency, groups=groups, tags=tags, on_change=changed)
            builder.render()
        with ui.column().classes("w-[24rem] max-lg:w-full shrink-0 sticky top-20"):
            preview = PreviewPanel(
                group_id=form.group_id,
                wording=wording,
                get_rule=lambda: builder.rule,
                get_benefits=benefits,
                group_name=form.name,
            )
    form.rule = builder.rule
    form.rule_view = builder
    builder.mark(rule_problems(builder.rule))
    # The cost follows the Pricing step's entries: coming back here asks again.
    form.benefit_views.append(lambda step: preview.request() if step == TITLE else None)
    await preview.open(first)


def rule_problems(rule: dict) -> dict[str, str]:
    """The rule's problems by condition path; none for a rule that parses."""
    try:
        parse_rule(rule)
    except RuleError as error:
        return error.errors
    return {}

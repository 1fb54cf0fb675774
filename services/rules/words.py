"""Rules and customers' values in the shop's words: "Total Purchases (lifetime) is greater than $50,000".

Used wherever a rule is shown or explained (builder preview, group page, customer page, API), so
a condition reads the same everywhere.
"""

from dataclasses import dataclass
from typing import Any

from services.rules.fields import OP_LABELS, Op, ValueType
from services.rules.model import Condition, RuleGroup
from services.wording import count, money


@dataclass(frozen=True)
class Wording:
    """What turning ids and cents into words needs: the shop's currency and the groups' names."""

    currency: str
    group_names: dict[int, str] | None = None

    def money(self, cents: int) -> str:
        """An amount as the owner typed it: cents only when there are some ("$50,000", "$12.50")."""
        return money(cents, currency=self.currency)

    def group(self, group_id: int) -> str:
        return (self.group_names or {}).get(group_id, f"a deleted group (#{group_id})")


def value_text(condition: Condition, value: Any, wording: Wording) -> str:
    """One value of the condition's field, as the owner entered it."""
    field = condition.spec
    match field.type:
        case ValueType.MONEY:
            return wording.money(value)
        case ValueType.NUMBER:
            return f"{value:,}"
        case ValueType.DAYS:
            return count(value, "day")
        case ValueType.MONTHS:
            return count(value, "month")
        case ValueType.CHOICE:
            return field.choice_label(value)
        case ValueType.TEXT:
            return f'"{value}"'
        case ValueType.TAGS:
            return value
        case ValueType.GROUPS:
            return wording.group(value)
    return str(value)


def _join(items: list[str], last: str) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def condition_text(condition: Condition, wording: Wording) -> str:
    field, op = condition.spec, condition.operator
    label = field.label.removesuffix(" (months)")  # "Account Age is greater than 12 months"
    if field.has_months:
        label = (
            "Purchases in the last month"
            if condition.months == 1
            else f"Purchases in the last {condition.months} months"
        )
    value = condition.value
    if op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY):
        words = OP_LABELS[op]
        return f"{label} {words}" + (f" ({field.empty_means})" if field.empty_means and op == Op.IS_EMPTY else "")
    if op == Op.BETWEEN:
        low, high = (value_text(condition, v, wording) for v in value)
        return f"{label} is between {low} and {high}"
    if isinstance(value, list):
        texts = [value_text(condition, v, wording) for v in value]
        if field.type == ValueType.GROUPS:
            return f"{'Is a member of' if op == Op.IN else 'Is not a member of'} {_join(texts, 'or')}"
        return f"{label} {OP_LABELS[op]} {_join(texts, 'or' if op in (Op.IN, Op.HAS_ANY, Op.NOT_IN, Op.HAS_NONE) else 'and')}"
    return f"{label} {OP_LABELS[op]} {value_text(condition, value, wording)}"


def actual_text(condition: Condition, actual: Any, wording: Wording) -> str:
    """The customer's value of the condition's field, for "why" explanations."""
    field = condition.spec
    if actual is None or actual == "" or (isinstance(actual, frozenset | set) and not actual):
        return field.empty_means or "empty"
    match field.type:
        case ValueType.TAGS:
            return ", ".join(sorted(actual))
        case ValueType.GROUPS:
            return ", ".join(sorted(wording.group(g) for g in actual))
        case ValueType.TEXT:
            return str(actual)
    return value_text(condition, actual, wording)


def rule_lines(rule: RuleGroup, wording: Wording, depth: int = 0) -> list[tuple[int, str]]:
    """The rule as indented lines: (depth, text), groups introduced by "All of" / "Any of"."""
    lines = [(depth, "All of these:" if rule.match == "all" else "Any of these:")]
    for item in rule.conditions:
        if isinstance(item, RuleGroup):
            lines += rule_lines(item, wording, depth + 1)
        else:
            lines.append((depth + 1, condition_text(item, wording)))
    return lines

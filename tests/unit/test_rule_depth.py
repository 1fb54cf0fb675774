"""A rule nested deeper than a person would build (by a script, or to break the app) is refused with
one clear message at the first group that is too deep, however deep it goes."""

import pytest

from services.rules.model import RuleError, parse_rule

TOO_DEEP = "Groups can be nested at most 3 levels deep."


def nest(levels: int, condition: dict | None = None) -> dict:
    group = {"match": "any", "conditions": [condition or {"field": "order_count", "op": "gt", "value": 1}]}
    for _ in range(levels):
        group = {"match": "all", "conditions": [group]}
    return group


@pytest.mark.parametrize("levels", [4, 5, 160, 1_000, 100_000])
def test_a_rule_nested_too_deep_gets_one_message_at_the_first_group_too_deep(levels: int):
    with pytest.raises(RuleError) as refused:
        parse_rule(nest(levels))
    assert refused.value.errors == {"0.0.0.0": TOO_DEEP}


def test_the_depth_is_told_before_what_is_wrong_inside_the_groups_too_deep():
    # Beyond the limit nothing is read: a bad condition down there is not worth a message.
    with pytest.raises(RuleError) as refused:
        parse_rule(nest(300, {"field": "shoe_size", "op": "eq", "value": 42}))
    assert refused.value.errors == {"0.0.0.0": TOO_DEEP}


def test_each_branch_too_deep_is_named_and_a_rule_as_deep_as_allowed_is_kept():
    rule = {"match": "any", "conditions": [nest(3), nest(3), nest(50)]}
    with pytest.raises(RuleError) as refused:
        parse_rule(rule)
    assert refused.value.errors == {"0.0.0.0": TOO_DEEP, "1.0.0.0": TOO_DEEP, "2.0.0.0": TOO_DEEP}

    assert parse_rule(nest(3)).conditions[0].conditions[0].conditions[0].match == "any"

"""Rules as a shop owner meets them: what a bad rule says and where, why a customer does or does
not match, and the demo shop's VIP rule counted against the orders themselves."""

from datetime import UTC, datetime

import pytest
from tortoise import connections

from models.customer import Customer, CustomerTag, OrderStatus, PaymentRating
from models.group import CustomerGroup, Membership
from services.orders import record_order
from services.rules.compiler import to_q
from services.rules.explainer import explain
from services.rules.model import RuleError, parse_rule


def condition(field: str, op: str, value=None, **extra) -> dict:
    return {"field": field, "op": op, "value": value, **extra}


def problems(raw: dict) -> dict[str, str]:
    with pytest.raises(RuleError) as refused:
        parse_rule(raw)
    return refused.value.errors


ORDERS_MORE_THAN_ONE = condition("order_count", "gt", 1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (condition("shoe_size", "eq", 42), 'There is no field "shoe_size".'),
        (
            condition("company", "gt", "Acme"),
            "Company can be compared with: equals, does not equal, contains, starts with, ends with, "
            "is empty, is not empty.",
        ),
        (condition("order_count", "gt"), "Enter a value."),
        (condition("email", "contains", "  "), "Enter some text."),
        (condition("total_purchases", "gt", "50"), "Enter an amount."),
        (condition("total_purchases", "gt", 1.5), "Enter an amount."),
        (condition("total_purchases", "gt", True), "Enter an amount."),
        (condition("total_purchases", "gt", -100), "Enter an amount of 0 or more."),
        (
            condition("total_purchases", "between", [200_00, 100_00]),
            "The first value must not be greater than the second.",
        ),
        (condition("total_purchases", "between", 100), "Enter both ends of the range."),
        (condition("purchases_recent", "gt", 100), "Enter a number of months."),
        (condition("order_count", "gt", 1, months=3), "Number of Orders has no month window."),
        (condition("payment_rating", "eq", "great"), "Choose one of: Excellent, Good, Fair, Poor."),
        (condition("country", "eq", "Germany"), "Choose a country (a two-letter code such as US)."),
        (condition("tags", "has_any", []), "Choose at least one value."),
        (condition("company", "contains", "a\x00b"), "Remove control characters such as tabs or line breaks."),
    ],
)
def test_a_bad_condition_is_named_at_its_place(bad, message):
    assert problems({"match": "all", "conditions": [ORDERS_MORE_THAN_ONE, bad]}) == {"1": message}


def test_every_bad_condition_in_nested_groups_is_reported_at_once():
    rule = {
        "match": "all",
        "conditions": [
            condition("total_purchases", "gt", "50"),
            {"match": "any", "conditions": [ORDERS_MORE_THAN_ONE, condition("status", "contains", "act")]},
        ],
    }
    assert problems(rule) == {
        "0": "Enter an amount.",
        "1.1": "Status can be compared with: equals, does not equal, is one of, is none of.",
    }


def test_an_empty_group_matches_nothing_so_it_is_refused():
    assert problems({"match": "all", "conditions": []}) == {"": "Add at least one condition."}
    nested = {"match": "all", "conditions": [ORDERS_MORE_THAN_ONE, {"match": "any", "conditions": []}]}
    assert problems(nested) == {"1": "Add at least one condition."}


def test_groups_nest_at_most_three_levels_deep():
    def nest(levels: int) -> dict:
        group = {"match": "any", "conditions": [ORDERS_MORE_THAN_ONE]}
        for _ in range(levels):
            group = {"match": "any", "conditions": [group]}
        return group

    assert parse_rule(nest(3))
    assert problems(nest(4)) == {"0.0.0.0": "Groups can be nested at most 3 levels deep."}


def test_a_rule_is_a_group_of_conditions():
    assert problems([ORDERS_MORE_THAN_ONE]) == {"": "A rule is a group of conditions."}
    assert problems({"match": "most", "conditions": [ORDERS_MORE_THAN_ONE]}) == {"": 'Match must be "all" or "any".'}
    assert problems({"conditions": [{"field": "order_count", "value": 1}]}) == {"0": "Choose a comparison."}


NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


async def test_the_explanation_shows_each_condition_with_the_customers_value(db):
    customer = await Customer.create(
        name="Anna Schmidt",
        company="Schmidt & Söhne GmbH",
        email="anna@schmidt.example",
        country="DE",
        payment_rating=PaymentRating.GOOD,
        created_at=datetime(2023, 1, 20, 9, 0, tzinfo=UTC),
    )
    await record_order(customer_id=customer.id, total_cents=4_000_000, placed_at=datetime(2023, 11, 2, tzinfo=UTC))
    await record_order(customer_id=customer.id, total_cents=2_000_000, placed_at=datetime(2024, 6, 1, tzinfo=UTC))
    await record_order(
        customer_id=customer.id,
        total_cents=9_000_000,
        placed_at=datetime(2024, 6, 2, tzinfo=UTC),
        status=OrderStatus.CANCELLED,
    )
    await CustomerTag.create(customer_id=customer.id, tag="key-account")
    wholesale = await CustomerGroup.create(name="Wholesale", name_key="wholesale", code="WHOLESALE")
    await Membership.create(customer_id=customer.id, group_id=wholesale.id, since=NOW)

    rule = parse_rule(
        {
            "match": "all",
            "conditions": [
                condition("total_purchases", "gt", 5_000_000),
                condition("account_age_months", "gt", 12),
                {
                    "match": "any",
                    "conditions": [
                        condition("payment_rating", "eq", "excellent"),
                        condition("tags", "has_any", ["Key-Account"]),
                    ],
                },
                condition("purchases_recent", "gte", 2_500_000, months=3),
                condition("days_since_last_order", "lte", 14),
                condition("company", "contains", "SCHMIDT"),
                condition("member_of", "not_in", [wholesale.id]),
            ],
        }
    )
    why = await explain(rule=rule, customer_id=customer.id, now=NOW)

    assert not why.passed
    assert [(item.path, item.actual, item.passed) for item in why.items[:2]] == [
        ("0", 6_000_000, True),  # the cancelled order does not count
        ("1", 16, True),  # 20 Jan 2023 to 15 Jun 2024
    ]
    either = why.items[2]
    assert (either.path, either.match, either.passed) == ("2", "any", True)
    assert [(item.path, item.actual, item.passed) for item in either.items] == [
        ("2.0", "good", False),
        ("2.1", frozenset({"key-account"}), True),
    ]
    assert [(item.path, item.actual, item.passed) for item in why.items[3:]] == [
        ("3", 2_000_000, False),  # only the June order is within three months
        ("4", 14, True),
        ("5", "Schmidt & Söhne GmbH", True),
        ("6", frozenset({wholesale.id}), False),
    ]
    assert await explain(rule=rule, customer_id=customer.id + 1, now=NOW) is None


SEED_003_VIP = {
    "match": "all",
    "conditions": [
        condition("total_purchases", "gt", 5_000_000),  # $50,000 in cents
        condition("account_age_months", "gt", 12),
        condition("payment_rating", "eq", "excellent"),
    ],
}


async def test_the_seed_003_rule_counts_what_plain_sql_over_the_orders_counts(demo_db):
    # Mid-month, so the database's own '-13 months' is the same calendar step as the rule's.
    now = datetime.now(UTC).replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    matches = await Customer.filter(to_q(parse_rule(SEED_003_VIP), now=now)).count()

    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        joined_long_ago, at = "c.created_at <= $1::timestamptz - interval '13 months'", now
    else:
        joined_long_ago, at = "julianday(c.created_at) <= julianday(?, '-13 months')", now.strftime("%Y-%m-%d %H:%M:%S")
    _, rows = await connection.execute_query(
        f"""
        SELECT COUNT(*) AS n FROM customer AS c
        WHERE c.payment_rating = 'excellent'
          AND {joined_long_ago}
          AND (SELECT SUM(o.total_cents) FROM "order" AS o
               WHERE o.customer_id = c.id AND o.status = 'completed') > 5000000
        """,
        [at],
    )
    assert 0 < matches == rows[0]["n"]

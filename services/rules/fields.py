"""The fields a rule can read and the operators each allows.

One catalog drives the rule builder, the validator, the SQL compiler and the explainer, so a
field added here is offered, checked, compiled and explained the same way everywhere.
"""

from dataclasses import dataclass
from enum import StrEnum

from models.customer import CustomerStatus, PaymentRating


class ValueType(StrEnum):
    MONEY = "money"  # cents in the rule, the shop's currency on screen
    NUMBER = "number"  # a whole number
    DAYS = "days"  # whole days since a moment
    MONTHS = "months"  # whole calendar months since a moment
    CHOICE = "choice"  # one of a fixed list
    TEXT = "text"  # free text, letter case ignored
    TAGS = "tags"  # a set of tags
    GROUPS = "groups"  # membership of other groups


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IN = "in"
    NOT_IN = "not_in"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    HAS_ANY = "has_any"
    HAS_ALL = "has_all"
    HAS_NONE = "has_none"


OP_LABELS = {
    Op.EQ: "equals",
    Op.NE: "does not equal",
    Op.GT: "is greater than",
    Op.GTE: "is at least",
    Op.LT: "is less than",
    Op.LTE: "is at most",
    Op.BETWEEN: "is between",
    Op.CONTAINS: "contains",
    Op.STARTS_WITH: "starts with",
    Op.ENDS_WITH: "ends with",
    Op.IN: "is one of",
    Op.NOT_IN: "is none of",
    Op.IS_EMPTY: "is empty",
    Op.IS_NOT_EMPTY: "is not empty",
    Op.HAS_ANY: "has any of",
    Op.HAS_ALL: "has all of",
    Op.HAS_NONE: "has none of",
}

# What the value of a condition looks like, by operator.
NO_VALUE = {Op.IS_EMPTY, Op.IS_NOT_EMPTY}
LIST_VALUE = {Op.IN, Op.NOT_IN, Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE}
RANGE_VALUE = {Op.BETWEEN}

COMPARISONS = (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN)
EMPTINESS = (Op.IS_EMPTY, Op.IS_NOT_EMPTY)


@dataclass(frozen=True)
class RuleField:
    name: str
    label: str
    type: ValueType
    ops: tuple[Op, ...]
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for CHOICE fields
    max_length: int = 200  # for TEXT values
    has_months: bool = False  # takes a "last N months" window besides its value
    empty_means: str = ""  # what an empty value is, in the shop's words

    def allows(self, op: Op) -> bool:
        return op in self.ops

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


COUNTRIES = (
    ("AU", "Australia"),
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CN", "China"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("IN", "India"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("MX", "Mexico"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("US", "United States"),
    ("ZA", "South Africa"),
)

FIELDS: dict[str, RuleField] = {
    field.name: field
    for field in (
        RuleField(
            "total_purchases",
            "Total Purchases (lifetime)",
            ValueType.MONEY,
            COMPARISONS,
            help="All completed orders since the customer's first.",
        ),
        RuleField(
            "purchases_recent",
            "Purchases in the last N months",
            ValueType.MONEY,
            COMPARISONS,
            help="Completed orders placed in the chosen number of months up to today.",
            has_months=True,
        ),
        RuleField("order_count", "Number of Orders", ValueType.NUMBER, COMPARISONS, help="Completed orders."),
        RuleField(
            "average_order_value",
            "Average Order Value",
            ValueType.MONEY,
            COMPARISONS + EMPTINESS,
            help="Total purchases divided by the number of orders.",
            empty_means="no orders yet",
        ),
        RuleField(
            "days_since_last_order",
            "Days Since Last Order",
            ValueType.DAYS,
            COMPARISONS + EMPTINESS,
            empty_means="never ordered",
        ),
        RuleField(
            "days_since_first_order",
            "Days Since First Order",
            ValueType.DAYS,
            COMPARISONS + EMPTINESS,
            empty_means="never ordered",
        ),
        RuleField(
            "account_age_months",
            "Account Age (months)",
            ValueType.MONTHS,
            COMPARISONS,
            help="Whole months since the customer's account was created.",
        ),
        RuleField(
            "payment_rating",
            "Payment History",
            ValueType.CHOICE,
            (Op.EQ, Op.NE, Op.IN, Op.NOT_IN),
            choices=tuple((r.value, r.value.capitalize()) for r in PaymentRating),
        ),
        RuleField(
            "country",
            "Country",
            ValueType.CHOICE,
            (Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *EMPTINESS),
            choices=COUNTRIES,
            empty_means="no country",
        ),
        RuleField(
            "status",
            "Status",
            ValueType.CHOICE,
            (Op.EQ, Op.NE, Op.IN, Op.NOT_IN),
            choices=tuple((s.value, s.value.capitalize()) for s in CustomerStatus),
        ),
        RuleField(
            "company",
            "Company",
            ValueType.TEXT,
            (Op.EQ, Op.NE, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH, *EMPTINESS),
            empty_means="no company",
        ),
        RuleField(
            "email",
            "Email",
            ValueType.TEXT,
            (Op.EQ, Op.NE, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH),
            max_length=254,
        ),
        RuleField(
            "tags",
            "Tags",
            ValueType.TAGS,
            (Op.HAS_ANY, Op.HAS_ALL, Op.HAS_NONE, *EMPTINESS),
            empty_means="no tags",
        ),
        RuleField("member_of", "Member of Group", ValueType.GROUPS, (Op.IN, Op.NOT_IN)),
    )
}

MAX_MONTHS = 120
MAX_LIST = 100  # values in one "is one of" / "has any of"
MAX_DEPTH = 4  # nesting of groups inside groups
MAX_CONDITIONS = 50

"""The API's request and response bodies, so the OpenAPI document says exactly what goes in and out.

Every number a client sends is bounded (the database stores 64-bit integers at most) and every
list has a maximum length; the services check the rest and answer with a message per field.
"""

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from models.customer import CustomerStatus, OrderStatus, PaymentRating
from models.group import GroupStatus, GroupType, MembershipSource
from models.promotion import PromotionType
from services.catalog import NAME_MAX as CATALOG_NAME_MAX
from services.catalog import PRICE_MAX_CENTS
from services.customers import CustomerBase
from services.fields import MAX_ID, MAX_QUANTITY, TEXT, Day, Id
from services.groups.fields import GroupBase
from services.membership.changes import AddMode, RemoveMode
from services.orders.recording import MAX_CENTS, Outcome
from services.orders.recording import MAX_QUANTITY as MAX_ORDER_QUANTITY
from services.promotions.fields import PromotionBase
from services.text import EMAIL_PATTERN

PER_PAGE_MAX = 200
MAX_ORDERS_AT_ONCE = 1000

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1 is the first page")]
PerPage = Annotated[int, Query(ge=1, le=PER_PAGE_MAX, description="Items per page")]
Search = Annotated[str, Query(max_length=200, description="Text in the name, company or email")]
After = Annotated[
    str | None,
    Query(
        max_length=2000,
        description="The `next` of the page before: the answer is the page that follows it, read in the same "
        "time however deep into the list (a `page` number makes the database count off every row before it)",
    ),
]


T = TypeVar("T")


# A CSV file may come as text/csv or as plain bytes: code generators (openapi-python-client among
# them) send a file body as application/octet-stream and cannot generate a text/csv one.
CSV_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
}


def is_csv(content_type: str) -> bool:
    """Whether a request body of this content type is a CSV file (see CSV_CONTENT)."""
    return "csv" in content_type or content_type.startswith("application/octet-stream")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def changes_of(model: type[In], *, doc: str, versioned: bool = True) -> type[In]:
    """A PATCH body: `model`'s fields, each with its type and limits but left out unless sent, and
    (when `versioned`) the version the record was read at."""
    fields: dict[str, Any] = {
        name: (field.annotation, FieldInfo.merge_field_infos(field, default=None, default_factory=None))
        for name, field in model.model_fields.items()
    }
    if versioned:
        fields["version"] = (Annotated[int, Field(ge=0, le=MAX_ID, strict=True)], ...)
    return create_model(
        model.__name__.removesuffix("In") + "Change", __base__=In, __doc__=doc, __module__=__name__, **fields
    )


class Paged(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class PagedByName(Paged[T], Generic[T]):
    """A page of a list sorted by name, and where the next page starts."""

    next: str | None = Field(default=None, description="Pass as `after` for the following page; null on the last page")


# --- Groups -----------------------------------------------------------------------------------


class GroupSummary(Out):
    id: int
    name: str
    code: str
    type: GroupType
    status: GroupStatus
    members: int
    is_default: bool
    parent_name: str | None


class GroupOut(Out, GroupBase):
    """A group: its fields (services.groups.fields.GroupBase) and what the shop keeps of it."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always in the answer

    id: int
    parent_name: str | None
    is_default: bool
    members: int
    children: list[str]
    version: int = Field(description="Send it back with a change: a stale version gets 409")
    rule_version: int
    rule_applied_version: int
    created_at: datetime
    updated_at: datetime


class GroupIn(In, GroupBase):
    pass


GroupChange = changes_of(GroupIn, doc="The fields to change, and the version they were read at.")


class GroupDeleted(Out):
    name: str
    released: int = Field(description="Members released (each with an event)")
    reparented: int = Field(description="Subgroups moved up to the group's parent")
    drafted_promotions: list[str]


class MemberOut(Out):
    customer_id: int
    name: str
    company: str
    since: datetime
    lifetime_cents: int
    source: MembershipSource
    is_primary: bool


class AddMembersIn(In):
    customer_ids: list[Id] = Field(min_length=1, max_length=10_000)
    mode: AddMode = AddMode.ADD
    reason: str = Field(default="", max_length=500)


class AddMembersOut(Out):
    group_id: int
    group_name: str
    added: int
    already: int
    made_primary: int
    moved_out: int
    blocked: int
    blocked_names: list[str]
    kept_by_rule: int
    kept_by_rule_names: list[str]
    summary: str


class RemoveMembersIn(In):
    customer_ids: list[Id] = Field(min_length=1, max_length=10_000)
    mode: RemoveMode = RemoveMode.REMOVE
    target_group_id: Id | None = Field(default=None, description='The group to move them to with "other_group"')
    reason: str = Field(default="", max_length=500)


class RemoveMembersOut(Out):
    group_id: int
    group_name: str
    removed: int
    excluded: int
    not_members: int
    moved_to: str | None
    joined_target: int
    blocked: int
    summary: str


# --- Rules ------------------------------------------------------------------------------------


class RulePreviewIn(In):
    rule: dict[str, Any] = Field(
        description='{"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": 500000}]}'
    )
    group_id: Id | None = Field(default=None, description="Also say who would join and leave this group")


class MatchOut(BaseModel):
    customer_id: int
    name: str
    email: str


class NamedCustomerOut(Out):
    customer_id: int
    name: str


class GroupChangeOut(Out):
    joining: int
    leaving: int
    joining_samples: list[NamedCustomerOut]
    leaving_samples: list[NamedCustomerOut]


class RulePreviewOut(BaseModel):
    matching: int
    total_customers: int
    share: float = Field(description="matching / total_customers, from 0 to 1")
    samples: list[MatchOut]
    change: GroupChangeOut | None


# --- Customers --------------------------------------------------------------------------------


class CustomerSummary(Out):
    id: int
    name: str
    company: str
    email: str
    country: str
    status: CustomerStatus
    lifetime_cents: int
    order_count: int
    groups: list[str]


class CustomerMembershipOut(Out):
    group_id: int
    group_name: str
    source: MembershipSource
    is_primary: bool
    since: datetime


class CustomerOut(CustomerBase, Out):
    id: int
    created_at: datetime
    lifetime_cents: int
    order_count: int
    average_order_cents: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    memberships: list[CustomerMembershipOut]


class CustomerIn(CustomerBase, In):
    pass


CustomerChange = changes_of(CustomerIn, doc="The fields to change; the others stay as saved.", versioned=False)


class CustomerImportRow(In):
    """One customer of a JSON import; a field left out keeps what is saved."""

    email: str = Field(max_length=1000)
    name: str = Field(max_length=1000)
    company: str | None = Field(default=None, max_length=1000)
    country: str | None = Field(default=None, max_length=10)
    status: CustomerStatus | None = None
    payment_rating: PaymentRating | None = None
    tags: list[Annotated[str, Field(max_length=1000)]] | None = Field(default=None, max_length=100)
    created_at: date | None = None  # read strictly (api.routes_customers): a day is "YYYY-MM-DD"


class ImportErrorOut(Out):
    row: int = Field(description="As in a spreadsheet: the header is row 1, so the first customer is row 2")
    field: str | None
    message: str


class RuleChangeOut(Out):
    group_name: str
    joined: int
    left: int


class ImportOut(Out):
    imported: bool = Field(description="False: all_or_nothing was asked for, rows had errors, nothing was saved")
    created: int
    updated: int
    unchanged: int
    error_rows: int
    errors: list[ImportErrorOut]
    rule_changes: list[RuleChangeOut]


class SettingOut(Out):
    value: Any
    origin: str = Field(description='"here", "inherited", "overridden" or "default"')
    group_id: int | None
    group_name: str | None
    note: str


class GroupBenefitsOut(Out):
    group_id: int
    group_name: str
    chain: list[str]
    pricing: dict[str, SettingOut]
    visibility: dict[str, SettingOut]
    portal: dict[str, SettingOut]
    payment: dict[str, SettingOut]


class BenefitsOut(BaseModel):
    customer_id: int
    primary_group: str | None
    groups: list[GroupBenefitsOut]
    sees_all_products: bool
    visibility_group_names: list[str]
    extra_product_count: int
    portal: dict[str, Any]
    payment: dict[str, SettingOut] | None = Field(description="The primary group's payment terms")


class CartLineIn(In):
    product_id: Id
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)] = 1


class QuoteIn(In):
    lines: list[CartLineIn] = Field(min_length=1, max_length=200)
    date: Day | None = Field(default=None, description="The order date (promotions count within their dates)")


class CandidateOut(Out):
    source: str
    group_id: int | None
    group_name: str | None
    unit_cents: int | None = Field(description="Empty: this price did not apply (see verdict)")
    verdict: str
    won: bool
    note: str


class LineOut(Out):
    product_id: int
    sku: str
    name: str
    quantity: int
    base_unit_cents: int
    unit_cents: int
    total_cents: int
    visible: bool
    free_units: int
    free_note: str
    winner: CandidateOut
    candidates: list[CandidateOut]


class MinimumOut(Out):
    group_name: str
    met: bool
    text: str


class PromotionNoteOut(Out):
    name: str
    applied: bool
    text: str


class QuoteOut(Out):
    customer_id: int
    customer_name: str
    groups: list[str]
    lines: list[LineOut]
    base_total_cents: int
    total_cents: int
    savings_cents: int
    minimums: list[MinimumOut]
    promotions: list[PromotionNoteOut]


# --- Promotions -------------------------------------------------------------------------------


class PromotionSummary(Out):
    id: int
    name: str
    type: PromotionType
    shown: str = Field(description="active, scheduled, expired or draft")
    targets: list[str]
    valid_from: date | None
    valid_to: date | None
    summary: str


class PromotionOut(Out, PromotionBase):
    """A promotion: its fields (services.promotions.fields.PromotionBase) and how it reads."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always in the answer

    id: int
    shown: str = Field(description="active, scheduled, expired or draft")
    targets: list[str]
    free_item_name: str | None
    summary: str
    version: int = Field(description="Send it back with a replacement: a stale version gets 409")


class PromotionIn(In, PromotionBase):
    pass


class PromotionReplacement(PromotionIn):
    """All of a promotion's settings, and the version they replace."""

    version: Annotated[int, Field(ge=0, le=MAX_ID, strict=True)]


class PromotionDeleted(BaseModel):
    id: int
    name: str


# --- Orders -----------------------------------------------------------------------------------

Cents = Annotated[int, Field(ge=0, le=MAX_CENTS, strict=True)]


def _moment_as_text(value: Any) -> Any:
    # Lax mode would take a number for a moment (0 is 1970-01-01): a moment is ISO 8601 text.
    if isinstance(value, int | float):
        raise ValueError("Send the date and time as text, e.g. 2025-03-01T10:00:00Z.")
    return value


Moment = Annotated[datetime, BeforeValidator(_moment_as_text)]


class OrderLineIn(In):
    sku: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: int = Field(default=1, ge=1, le=MAX_ORDER_QUANTITY, strict=True)
    price_cents: Cents = Field(default=0, description="Per unit, as charged")


class OrderIn(In):
    """An order as the shop sends it; the customer by id or by email."""

    number: str = Field(
        max_length=64, pattern=r"\S", description="The shop's own order number: sending it again updates that order"
    )
    customer_id: Id | None = Field(default=None, description="Or customer_email")
    customer_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    placed_at: Moment = Field(description="ISO 8601 text; without an offset, UTC")
    total_cents: Cents
    currency: str = Field(default="", pattern=r"^([A-Z]{3})?$", description="e.g. USD; empty: the shop's own")
    status: OrderStatus = Field(default=OrderStatus.COMPLETED, description="Only completed orders count as purchases")
    lines: list[OrderLineIn] | None = Field(
        default=None, max_length=1000, description="Replace the order's lines; left out, they stay as saved"
    )


class OrdersIn(In):
    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_ORDERS_AT_ONCE)


class OrderStatusIn(In):
    status: OrderStatus


class OrderLineOut(Out):
    sku: str
    name: str
    quantity: int
    price_cents: int


class OrderOut(Out):
    id: int
    number: str | None
    customer_id: int
    placed_at: datetime
    total_cents: int
    currency: str
    status: OrderStatus
    lines: list[OrderLineOut]


class SavedOrderOut(Out):
    id: int
    number: str
    outcome: Outcome = Field(description="created, updated, or unchanged (sent before with the same values)")


class OrderSavedOut(SavedOrderOut):
    rule_changes: list[RuleChangeOut]


class OrdersSavedOut(Out):
    orders: list[SavedOrderOut]
    created: int
    updated: int
    unchanged: int
    rule_changes: list[RuleChangeOut]


# --- Change feed ----------------------------------------------------------------------------


class FeedCustomerOut(BaseModel):
    id: int | None
    email: str | None
    name: str | None


class FeedGroupOut(BaseModel):
    id: int | None
    name: str | None
    code: str | None


class FeedOtherGroupOut(BaseModel):
    id: int | None
    name: str | None
    code: str | None = None


class MembershipEventOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="The event's id, as its webhook's `webhook-id`; also a cursor")
    type: str = Field(description="member.joined, member.left or member.moved")
    timestamp: datetime
    customer: FeedCustomerOut
    group: FeedGroupOut
    source: str | None = Field(description="manual, rule or both: how the customer was in (or came into) the group")
    reason: str
    moved_to: str | None = Field(None, description="member.moved by hand: the group the customer moved to")
    moved_from: str | None = Field(
        None, description="member.joined by a move, or member.moved between rungs of a ladder: the group left"
    )
    from_group: FeedOtherGroupOut | None = Field(
        None, alias="from", description="member.moved: the group the customer left"
    )
    to_group: FeedOtherGroupOut | None = Field(None, alias="to", description="member.moved: the group they joined")
    direction: Literal["up", "down"] | None = Field(
        None, description="member.moved between two rungs of a ladder: up or down; empty for a move by hand"
    )
    kept: FeedOtherGroupOut | None = Field(
        None,
        description="member.left by a customer who was on two rungs of a ladder: the rung they stay on "
        "(empty: out of the group, and off its ladder if it is a rung)",
    )


class MembershipEventsOut(BaseModel):
    items: list[MembershipEventOut]
    next: str = Field(description="Pass as `after` for the events that follow; the same cursor when none came yet")


# --- Products ---------------------------------------------------------------------------------

Sku = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$",
        description="The product's key: letters, digits, '.', '/', '-' and '_'; stored in capitals, so not case-sensitive",
    ),
]
PriceCents = Annotated[int, Field(ge=0, le=PRICE_MAX_CENTS, strict=True)]


class ProductFields(In):
    """A product's fields: one left out keeps what is saved. A new product needs a name, a category
    and a base price."""

    name: str | None = Field(default=None, max_length=CATALOG_NAME_MAX["product"], pattern=TEXT)
    category: str | None = Field(
        default=None,
        max_length=CATALOG_NAME_MAX["category"],
        pattern=TEXT,
        description="By name (not case-sensitive); a category the shop does not have yet is created",
    )
    base_price_cents: PriceCents | None = Field(default=None, description="The list price")
    cost_cents: PriceCents | None = Field(
        default=None, description="What one unit costs you, for the reports' net margin; null forgets it"
    )


class ProductIn(ProductFields):
    sku: Sku


class ProductsIn(In):
    products: list[ProductIn] = Field(min_length=1, max_length=10_000, description="Each SKU at most once")


class ProductOut(Out):
    id: int
    sku: str
    name: str
    category_id: int
    category_name: str
    visibility_group_id: int
    visibility_group_name: str
    base_price_cents: int
    cost_cents: int | None = Field(description="Empty: not known, the reports estimate the margin")


class ProductsSavedOut(Out):
    created: int
    updated: int
    unchanged: int
    categories_created: list[str]


class ProductImportOut(Out):
    imported: bool = Field(description="False: all_or_nothing was asked for, rows had errors, nothing was saved")
    created: int
    updated: int
    unchanged: int
    categories_created: list[str]
    error_rows: int
    errors: list[ImportErrorOut] = Field(max_length=100, description="The first 100 errors, by row")
    error_count: int = Field(description="How many errors the rows had, listed or not")

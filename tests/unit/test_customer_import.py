"""Importing customers and memberships from CSV files, on a real database."""

from datetime import UTC, datetime

import pytest

from models.customer import Customer, CustomerStatus, CustomerTag, PaymentRating
from models.group import CustomerGroup, Membership, MembershipEvent
from models.shop import Shop
from services.errors import FormError
from services.groups.group import create_group, delete_group
from services.imports.customers import check_customers, import_customers
from services.imports.files import ImportKind, RowError, read_csv, suggest_mapping
from services.imports.memberships import check_memberships, import_memberships
from services.membership.changes import AddMode, add_members
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")
MAPPING = {
    "email": "Email",
    "name": "Name",
    "company": "Company",
    "country": "Country",
    "status": "Status",
    "payment_rating": None,
    "tags": "Tags",
    "created_at": None,
}
GOOD = b"""Email,Name,Company,Country,Status,Tags
ada@example.com,Ada Lovelace,Analytical Engines,gb,active,b2b; Newsletter
ben@example.com,Ben Brooks,,US,inactive,
"""


def _csv(*rows: str, header: str = "Email,Name,Company,Country,Status,Tags") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


async def _import(data: bytes, *, all_or_nothing: bool = False, mapping: dict | None = None):
    file = await read_csv(data=data)
    return await import_customers(
        file=file, mapping=mapping or MAPPING, all_or_nothing=all_or_nothing, actor=ACTOR, progress=None
    )


async def _tags(email: str) -> list[str]:
    return sorted(await CustomerTag.filter(customer__email=email).values_list("tag", flat=True))


@pytest.fixture
async def shop(db) -> None:
    await Shop.create(name="Test shop")


# --- Reading and mapping ----------------------------------------------------------------------


async def test_columns_are_suggested_from_their_names_and_common_synonyms():
    headers = ["E-mail", "Customer name", "Company name", "Country Code", "Payment History", "Created", "Notes"]
    assert suggest_mapping(headers=headers) == {
        "email": "E-mail",
        "name": "Customer name",
        "company": "Company name",
        "country": "Country Code",
        "status": None,
        "payment_rating": "Payment History",
        "tags": None,
        "created_at": "Created",
        "first_name": None,
        "last_name": None,
    }
    assert suggest_mapping(headers=["Email", "Group"], kind=ImportKind.MEMBERSHIPS) == {
        "email": "Email",
        "group_code": "Group",
    }


async def test_semicolon_files_from_excel_in_windows_code_page_are_read():
    file = await read_csv(data="E-Mail;Name\r\nzoe@example.com;Zoë Müller\r\n".encode("cp1252"))
    assert file.delimiter == ";"
    assert file.headers == ("E-Mail", "Name")
    assert file.rows == [["zoe@example.com", "Zoë Müller"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n,,\nada@example.com,Ada\n", "The first row must name the columns"),
        (b"PK\x03\x04\x00\x00binary", "This is not a CSV file"),
        (b"Email,email\na,b\n", "Two columns are named"),
    ],
)
async def test_files_that_are_not_usable_are_refused_with_a_reason(data: bytes, message: str):
    with pytest.raises(FormError) as error:
        await read_csv(data=data)
    assert error.value.errors["file"].startswith(message)


async def test_a_mapping_without_email_or_name_is_refused(shop):
    file = await read_csv(data=GOOD)
    with pytest.raises(FormError) as error:
        await check_customers(file=file, mapping={**MAPPING, "email": None, "name": "Nope"})
    assert set(error.value.errors) == {"email", "name"}


# --- Checking ---------------------------------------------------------------------------------


async def test_bad_rows_are_listed_with_their_spreadsheet_row_numbers(shop):
    data = _csv(
        "ada@example.com,Ada Lovelace,,GB,active,",  # row 2: fine
        ",No Email,,,,",  # row 3
        "not-an-email,Bad Email,,,,",  # row 4
        "cy@example.com,Cy,,,dormant,",  # row 5
        "dee@example.com,Dee\x07Bell,,,,",  # row 6: a control character
        '"eve@example.com","Eve\nNewline",,,,',  # row 7: a line break inside a quoted cell
        ",,,,,",  # row 8: blank, skipped
        "ADA@example.com,Ada Again,,,,",  # row 9: duplicate of row 2
        "fay@example.com,Fay,,Germany,,",  # row 10
    )
    check = await check_customers(file=await read_csv(data=data), mapping=MAPPING)
    assert check.errors == [
        RowError(3, "email", "Email is missing."),
        RowError(4, "email", "“not-an-email” is not an email address."),
        RowError(5, "status", "Status “dormant” is not one of active, inactive, blocked."),
        RowError(
            6, "name", "Name contains hidden characters (such as tabs, line breaks or direction marks): remove them."
        ),
        RowError(
            7, "name", "Name contains hidden characters (such as tabs, line breaks or direction marks): remove them."
        ),
        RowError(9, "email", "ada@example.com is already in row 2."),
        RowError(10, "country", "Country “Germany” is not a two-letter code such as US or DE."),
    ]
    assert (check.rows, check.valid, check.new, check.error_rows) == (8, 1, 1, 7)
    assert [(p.row, p.action) for p in check.preview] == [
        (2, "new"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
        (7, "error"),
        (9, "error"),
        (10, "error"),
    ]
    assert check.preview[0].values["country"] == "GB"
    assert check.preview[1].errors == ("Email is missing.",)


async def test_the_check_counts_new_and_existing_customers_without_saving(shop):
    await Customer.create(name="Ben Brooks", email="ben@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    check = await check_customers(file=await read_csv(data=GOOD), mapping=MAPPING)
    assert (check.new, check.updated, check.unchanged) == (1, 1, 0)
    assert [p.values["tags"] for p in check.preview] == ["b2b, newsletter", ""]
    assert await Customer.all().count() == 1


# --- Importing --------------------------------------------------------------------------------


async def test_good_rows_are_imported_and_bad_rows_reported(shop):
    progress: list[float] = []
    file = await read_csv(data=_csv("ada@example.com,Ada Lovelace,,GB,,", "bad,Bad Email,,,,"))
    result = await import_customers(
        file=file, mapping=MAPPING, all_or_nothing=False, actor=ACTOR, progress=progress.append
    )
    assert result.imported
    assert (result.created, result.updated, result.error_rows) == (1, 0, 1)
    assert [e.row for e in result.errors] == [3]
    ada = await Customer.get(email="ada@example.com")
    assert (ada.name, ada.country, ada.status, ada.payment_rating) == (
        "Ada Lovelace",
        "GB",
        CustomerStatus.ACTIVE,
        PaymentRating.GOOD,
    )
    assert progress[-1] == 1.0
    assert progress == sorted(progress)


async def test_all_or_nothing_imports_nothing_when_a_row_is_bad(shop):
    result = await _import(_csv("ada@example.com,Ada Lovelace,,GB,,", "bad,Bad Email,,,,"), all_or_nothing=True)
    assert not result.imported
    assert (result.created, result.error_rows) == (0, 1)
    assert await Customer.all().count() == 0


async def test_importing_the_same_file_twice_changes_nothing_the_second_time(shop):
    first = await _import(GOOD)
    assert (first.created, first.updated) == (2, 0)
    saved = await Customer.all().order_by("id").values()
    second = await _import(GOOD)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert await Customer.all().order_by("id").values() == saved
    assert await _tags("ada@example.com") == ["b2b", "newsletter"]


async def test_a_known_email_updates_that_customer_and_empty_cells_keep_what_is_saved(shop):
    ben = await Customer.create(
        name="Ben B.",
        email="ben@example.com",
        company="Brooks & Co",
        payment_rating=PaymentRating.EXCELLENT,
        created_at=datetime(2023, 5, 1, tzinfo=UTC),
        lifetime_cents=123_00,
    )
    await CustomerTag.create(customer=ben, tag="old")
    result = await _import(_csv("BEN@Example.com,Ben Brooks,,US,blocked,Key-Account|b2b"))
    assert (result.created, result.updated) == (0, 1)
    ben = await Customer.get(id=ben.id)
    assert (ben.name, ben.company, ben.country, ben.status) == ("Ben Brooks", "Brooks & Co", "US", "blocked")
    assert (ben.payment_rating, ben.lifetime_cents, ben.created_at.year) == (PaymentRating.EXCELLENT, 123_00, 2023)
    assert await _tags("ben@example.com") == ["b2b", "key-account"]


async def test_new_customers_start_today_unless_the_file_says_when(shop):
    mapping = {"email": "Email", "name": "Name", "created_at": "Since"}
    data = _csv("ada@example.com,Ada,2021-03-04", "ben@example.com,Ben,", header="Email,Name,Since")
    before = datetime.now(UTC)
    await _import(data, mapping=mapping)
    ada, ben = await Customer.all().order_by("email")
    assert ada.created_at == datetime(2021, 3, 4, tzinfo=UTC)
    assert ben.created_at >= before.replace(microsecond=0)


async def test_imported_customers_land_in_rule_based_groups(shop):
    await create_group(
        data={
            "name": "Key accounts",
            "code": "KEY",
            "type": "automatic",
            "rule": {"match": "all", "conditions": [{"field": "tags", "op": "has_any", "value": ["key-account"]}]},
        },
        actor=ACTOR,
    )
    result = await _import(_csv("ada@example.com,Ada,,,,key-account", "ben@example.com,Ben,,,,"))
    assert [(c.group_name, c.joined) for c in result.rule_changes] == [("Key accounts", 1)]
    assert await Membership.filter(group__code="KEY").values_list("customer__email", flat=True) == ["ada@example.com"]


async def test_a_name_our_export_guarded_against_formulas_comes_back_as_it_was(shop):
    await _import(_csv("ada@example.com,'=Ada,,,,"))
    assert (await Customer.get(email="ada@example.com")).name == "=Ada"


# --- Memberships ------------------------------------------------------------------------------


@pytest.fixture
async def groups(shop) -> dict[str, int]:
    await _import(GOOD + b"cy@example.com,Cy Chen,,,,\n")
    ids = {}
    for name, code, kind in (("Wholesale", "WHOLESALE", "manual"), ("VIP", "VIP", "manual")):
        ids[code] = (await create_group(data={"name": name, "code": code, "type": kind}, actor=ACTOR)).id
    ids["AUTO"] = (
        await create_group(
            data={
                "name": "Everyone active",
                "code": "AUTO",
                "type": "automatic",
                "rule": {"match": "all", "conditions": [{"field": "status", "op": "eq", "value": "active"}]},
            },
            actor=ACTOR,
        )
    ).id
    return ids


MEMBERSHIPS = b"""Customer email,Group code
ada@example.com,wholesale
Ben@Example.com,VIP
cy@example.com,NOPE
nobody@example.com,VIP
cy@example.com,auto
ada@example.com,WHOLESALE
"""


async def test_memberships_are_imported_by_email_and_group_code(groups):
    file = await read_csv(data=MEMBERSHIPS)
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)
    check = await check_memberships(file=file, mapping=mapping)
    assert [(e.row, e.field) for e in check.errors] == [
        (4, "group_code"),
        (5, "email"),
        (6, "group_code"),
        (7, "email"),
    ]
    assert check.errors[0].message == "There is no group with the code “NOPE”."
    assert check.errors[1].message == "No customer has the email “nobody@example.com”."
    assert check.by_group == {"Wholesale": 1, "VIP": 1}

    result = await import_memberships(
        file=file, mapping=mapping, all_or_nothing=False, mode=AddMode.ADD, actor=ACTOR, progress=None
    )
    assert result.imported
    assert (result.added, result.already, result.error_rows) == (2, 0, 4)
    members = await Membership.filter(group__code__in=["WHOLESALE", "VIP"]).values_list(
        "group__code", "customer__email"
    )
    assert sorted(members) == [("VIP", "ben@example.com"), ("WHOLESALE", "ada@example.com")]
    assert await MembershipEvent.filter(actor=ACTOR, group_id=groups["VIP"]).count() == 1

    again = await import_memberships(file=file, mapping=mapping, mode=AddMode.ADD, actor=ACTOR)
    assert (again.added, again.already) == (0, 2)


async def test_membership_all_or_nothing_adds_nobody_when_a_row_is_bad(groups):
    file = await read_csv(data=MEMBERSHIPS)
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)
    result = await import_memberships(file=file, mapping=mapping, all_or_nothing=True, mode=AddMode.ADD, actor=ACTOR)
    assert not result.imported
    assert await Membership.filter(group_id__in=[groups["WHOLESALE"], groups["VIP"]]).count() == 0


async def manual_memberships() -> list[tuple[str, str]]:
    """(email, group code) of the memberships in the manual groups, oldest first."""
    rows = Membership.filter(group__type="manual").order_by("id")
    return list(await rows.values_list("customer__email", "group__code"))


async def test_each_membership_row_meets_the_shops_rules_and_bad_rows_are_listed(groups):
    # VIP takes one more customer; Cy is blocked; a switched-off group takes no one.
    await CustomerGroup.filter(id=groups["VIP"]).update(capacity=1)
    await Customer.filter(email="cy@example.com").update(status=CustomerStatus.BLOCKED)
    await create_group(data={"name": "Old Club", "code": "OLD", "status": "inactive"}, actor=ACTOR)
    file = await read_csv(
        data=b"Email,Group\nada@example.com,VIP\nben@example.com,VIP\ncy@example.com,WHOLESALE\n"
        b"ben@example.com,OLD\nben@example.com,WHOLESALE\n"
    )
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)
    refused = [
        RowError(3, "group_code", "VIP is full: 1 of 1."),
        RowError(4, "email", "Cy Chen is blocked: blocked customers join no group."),
        RowError(5, "group_code", "Old Club is inactive: it accepts no new members."),
    ]

    check = await check_memberships(file=file, mapping=mapping)
    assert check.errors == refused
    assert (check.valid, check.error_rows, check.by_group) == (2, 3, {"VIP": 1, "Wholesale": 1})
    assert not await Membership.filter(group__code__in=["VIP", "WHOLESALE"]).exists()  # the check saves nothing

    result = await import_memberships(file=file, mapping=mapping, mode=AddMode.ADD, actor=ACTOR)
    assert result.imported and result.errors == refused
    assert (result.added, result.error_rows) == (2, 3)
    members = await manual_memberships()
    assert members == [("ada@example.com", "VIP"), ("ben@example.com", "WHOLESALE")]


async def test_one_group_per_customer_is_checked_row_by_row(groups):
    await delete_group(group_id=groups["AUTO"], actor=ACTOR)  # its rule would hold everyone
    ada = await Customer.get(email="ada@example.com")
    await add_members(group_id=groups["WHOLESALE"], customer_ids=[ada.id], mode=AddMode.ADD, actor=ACTOR)
    await Shop.all().update(one_group_per_customer=True)
    file = await read_csv(data=b"Email,Group\nada@example.com,VIP\nben@example.com,VIP\nben@example.com,WHOLESALE\n")
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)

    result = await import_memberships(file=file, mapping=mapping, mode=AddMode.ADD, actor=ACTOR)

    # Ada is in Wholesale already; Ben's first row gives him VIP, so his second is a second group.
    assert [(e.row, e.field) for e in result.errors] == [(2, "group_code"), (4, "group_code")]
    assert "already in another group: Ada Lovelace (Wholesale)" in result.errors[0].message
    assert "already in another group: Ben Brooks (VIP)" in result.errors[1].message
    assert result.added == 1
    assert await manual_memberships() == [("ada@example.com", "WHOLESALE"), ("ben@example.com", "VIP")]

    moved = await import_memberships(file=file, mapping=mapping, mode=AddMode.MOVE, actor=ACTOR)
    # Moving takes one group per customer, so Ben's two rows are refused before anything is added.
    assert [(e.row, e.field) for e in moved.errors] == [(4, "group_code")]
    assert ("ada@example.com", "VIP") in await manual_memberships()


async def test_all_or_nothing_adds_nobody_when_a_group_is_full(groups):
    await CustomerGroup.filter(id=groups["VIP"]).update(capacity=1)
    file = await read_csv(data=b"Email,Group\nada@example.com,VIP\nben@example.com,VIP\n")
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.MEMBERSHIPS)
    result = await import_memberships(file=file, mapping=mapping, all_or_nothing=True, mode=AddMode.ADD, actor=ACTOR)
    assert not result.imported
    assert result.errors == [RowError(3, "group_code", "VIP is full: 1 of 1.")]
    assert await Membership.filter(group_id=groups["VIP"]).count() == 0

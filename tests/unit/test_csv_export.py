"""Exports read back with the csv module and compared with what the shop holds."""

import csv
import io
from datetime import UTC, datetime

import pytest

from models.customer import Customer, CustomerTag
from models.group import CustomerGroup, Membership
from services import csv_export
from services.csv_export import export_customers_csv, export_members_csv
from services.errors import NotFoundError
from services.imports.customers import import_customers
from services.imports.files import read_csv, suggest_mapping
from services.staff.actor import SystemActor


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_customer_list_export_holds_every_customer_with_their_figures(demo_db):
    rows = _rows(await export_customers_csv())
    assert len(rows) == await Customer.all().count()
    acme = next(r for r in rows if r["Name"] == "Acme Corporation")
    customer = await Customer.get(name="Acme Corporation")
    assert acme["Email"] == customer.email
    assert acme["Country"] == "US"
    assert acme["Status"] == "active"
    assert acme["Lifetime purchases (USD)"] == "245678.00"
    assert acme["Orders"] == str(customer.order_count)
    assert acme["Customer since"] == f"{customer.created_at:%Y-%m-%d}"
    assert acme["Groups"] == "VIP Platinum; VIP Customers"  # primary first
    tags = await CustomerTag.filter(customer=customer).order_by("tag").values_list("tag", flat=True)
    assert acme["Tags"] == "; ".join(tags)


async def test_the_export_follows_the_list_filters_and_reads_in_chunks(demo_db, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(csv_export, "CHUNK", 7)
    gold = await CustomerGroup.get(code="GOLD")
    rows = _rows(await export_customers_csv(group_id=gold.id))
    expected = await Customer.filter(memberships__group_id=gold.id).order_by("id").values_list("email", flat=True)
    assert [r["Email"] for r in rows] == expected
    assert len(expected) > 7
    searched = _rows(await export_customers_csv(search="acme"))
    assert [r["Name"] for r in searched] == ["Acme Corporation"]


async def test_a_groups_members_export_says_since_when_and_how_they_are_members(demo_db):
    vip = await CustomerGroup.get(code="VIP")
    rows = _rows(await export_members_csv(group_id=vip.id))
    members = await Membership.filter(group=vip).prefetch_related("customer")
    assert len(rows) == len(members) > 0
    by_email = {r["Email"]: r for r in rows}
    for member in members:
        row = by_email[member.customer.email]
        assert row["Name"] == member.customer.name
        assert row["Member since"] == f"{member.since:%Y-%m-%d}"
        assert row["Assignment"] == {"manual": "Manual", "rule": "Rule", "both": "Rule + Manual"}[member.source]
        assert row["Primary group"] == ("Yes" if member.is_primary else "No")
    with pytest.raises(NotFoundError):
        await export_members_csv(group_id=999_999)


async def test_names_that_a_spreadsheet_would_run_as_formulas_are_neutralised(db):
    for i, name in enumerate(['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "Plain"]):
        await Customer.create(name=name, email=f"c{i}@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    data = await export_customers_csv()
    names = [r["Name"] for r in _rows(data)]
    assert names == ['\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@SUM(A1)", "Plain"]

    # ... and the export imports back to the same names.
    file = await read_csv(data=data)
    result = await import_customers(
        file=file,
        mapping=suggest_mapping(headers=file.headers),
        all_or_nothing=True,
        actor=SystemActor("anna"),
        progress=None,
    )
    assert (result.imported, result.created, result.updated) == (True, 0, 0)


async def test_an_amount_below_zero_stays_a_number_while_text_that_starts_like_one_is_guarded(db):
    # A customer refunded more than they bought: a spreadsheet must still read their lifetime
    # purchases as a number, while a name and a company that merely start like one are text.
    await Customer.create(
        name="-2+3",
        company="\tTabbed Inc",
        email="refunds@example.com",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        lifetime_cents=-1250,
    )
    (row,) = _rows(await export_customers_csv())
    assert (row["Name"], row["Company"], row["Lifetime purchases (USD)"]) == ("'-2+3", "'\tTabbed Inc", "-12.50")

"""Shopify's customer export as the shop owner downloads it (Customers, Export, "CSV for Excel"):
recognised from its header, first and last names joined, tags split at commas, the columns we do
not keep (marketing consent, totals, addresses) left out; other files keep ; and | for tags."""

import pytest

from models.customer import Customer, CustomerTag
from models.shop import Shop
from services.errors import FormError
from services.imports.customers import check_customers, import_customers
from services.imports.files import read_csv, suggest_mapping
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")
# The header of Shopify's customer export (2024 and later), and two customers as it writes them.
SHOPIFY = (
    b"Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    b"Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
    b"Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
    b"Total Spent,Total Orders,Note,Tax Exempt,Tags\n"
    b"'7311294726447,Ada,Lovelace,ada@example.com,yes,Analytical Engines,12 St James's Square,,London,,GB,"
    b'SW1Y 4JH,\'+44 20 7946 0000,,no,1520.00,4,,no,"VIP, Wholesale,newsletter"\n'
    b"'7311294759215,Ben,,BEN@example.com,no,,,,Berlin,BE,DE,10115,,,no,0.00,0,Met at the fair,no,\n"
)


@pytest.fixture
async def shop(db) -> None:
    await Shop.create(name="Test shop")


async def test_the_export_is_recognised_and_its_columns_mapped():
    file = await read_csv(data=SHOPIFY)
    mapping = suggest_mapping(headers=file.headers)
    assert {key: header for key, header in mapping.items() if header} == {
        "email": "Email",
        "company": "Default Address Company",
        "country": "Default Address Country Code",
        "tags": "Tags",
        "first_name": "First Name",
        "last_name": "Last Name",
    }
    # Marketing consent, totals, addresses, the note: nothing of ours, so not imported.
    assert not {"Accepts Email Marketing", "Total Spent", "Total Orders", "Note"} & set(mapping.values())


async def test_customers_come_in_with_their_whole_name_and_comma_separated_tags(shop):
    file = await read_csv(data=SHOPIFY)
    mapping = suggest_mapping(headers=file.headers)
    check = await check_customers(file=file, mapping=mapping)
    assert (check.rows, check.new, check.error_rows) == (2, 2, 0)
    assert check.preview[0].values["name"] == "Ada Lovelace"
    assert check.preview[0].values["tags"] == "newsletter, vip, wholesale"

    result = await import_customers(file=file, mapping=mapping, actor=ACTOR)
    assert (result.created, result.errors) == (2, [])
    ada = await Customer.get(email="ada@example.com")
    assert (ada.name, ada.company, ada.country) == ("Ada Lovelace", "Analytical Engines", "GB")
    assert sorted(await CustomerTag.filter(customer=ada).values_list("tag", flat=True)) == [
        "newsletter",
        "vip",
        "wholesale",
    ]
    ben = await Customer.get(email="ben@example.com")
    assert (ben.name, ben.country) == ("Ben", "DE")

    again = await import_customers(file=file, mapping=mapping, actor=ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


async def test_other_files_keep_a_comma_inside_a_tag(shop):
    file = await read_csv(data=b'Email,Name,Tags\ncy@example.com,Cy,"north, east; b2b"\n')
    await import_customers(file=file, mapping=suggest_mapping(headers=file.headers), actor=ACTOR)
    tags = await CustomerTag.filter(customer__email="cy@example.com").values_list("tag", flat=True)
    assert sorted(tags) == ["b2b", "north, east"]


async def test_a_name_column_is_asked_for_unless_first_and_last_names_are_mapped(shop):
    file = await read_csv(data=SHOPIFY)
    mapping = suggest_mapping(headers=file.headers) | {"first_name": None, "last_name": None}
    with pytest.raises(FormError) as refused:
        await check_customers(file=file, mapping=mapping)
    assert refused.value.errors == {
        "name": "Choose the column that holds the name, or the first and last name columns."
    }


async def test_a_row_without_any_name_says_so(shop):
    file = await read_csv(data=SHOPIFY.replace(b",Ben,,BEN", b",,,BEN"))
    check = await check_customers(file=file, mapping=suggest_mapping(headers=file.headers))
    assert [(e.row, e.field, e.message) for e in check.errors] == [(3, "name", "Name is missing.")]

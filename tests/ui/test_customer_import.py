"""What a shop owner sees importing a CSV file, and exporting the customer list."""

import csv
import io

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer
from models.group import CustomerGroup, Membership

CUSTOMERS = b"""E-mail,Customer name,Company name,Country
ada@example.com,Ada Lovelace,Analytical Engines,GB
not-an-email,Bad Row,,US
ben@example.com,Ben Brooks,,Germany
cleo@example.com,Cleo Chen,,CA
"""


async def _upload(user: User, data: bytes, name: str = "customers.csv") -> None:
    """What the browser does when the owner picks a file: post it to the upload element."""
    upload = user.find("import-upload").elements.pop()
    await upload.handle_uploads([ui.upload.SmallFileUpload(name, "text/csv", data)])


async def test_customers_are_checked_previewed_and_imported(user: User):
    before = await Customer.all().count()
    await user.open("/customers/import")
    await _upload(user, CUSTOMERS)
    await user.should_see("customers.csv: 4 rows below the header, 4 columns.")
    await user.should_see(marker="import-summary")
    assert user.find("map-email").elements.pop().value == "E-mail"
    assert user.find("map-name").elements.pop().value == "Customer name"
    assert user.find("map-status").elements.pop().value is None

    await user.should_see("4 rows: 2 new customers, 0 customers to update, 0 unchanged, 2 rows with errors.")
    preview = user.find("import-preview").elements.pop()
    assert [(r["row"], r["action"], r["name"]) for r in preview.rows] == [
        (2, "New", "Ada Lovelace"),
        (3, "Error", "Bad Row"),
        (4, "Error", "Ben Brooks"),
        (5, "New", "Cleo Chen"),
    ]
    errors = user.find("import-errors").elements.pop()
    assert [(r["row"], r["column"], r["message"]) for r in errors.rows] == [
        (3, "Email", "“not-an-email” is not an email address."),
        (4, "Country", "Country “Germany” is not a two-letter code such as US or DE."),
    ]

    user.find("import-button").click()
    await user.should_see("Imported: 2 customers created, 0 updated, 0 unchanged.")
    await user.should_see("2 rows with errors left out (listed above).")
    await user.should_see("Every customer in the file is saved as it is: nothing to change.")
    assert await Customer.all().count() == before + 2


async def test_all_or_nothing_imports_nothing_when_rows_have_errors(user: User):
    before = await Customer.all().count()
    await user.open("/customers/import")
    await _upload(user, CUSTOMERS)
    await user.should_see("2 rows with errors")
    user.find("all-or-nothing").click()
    await user.should_see("Fix the rows with errors first, or untick “All or nothing”.")
    assert not user.find("import-button").elements.pop().enabled
    assert await Customer.all().count() == before


async def test_a_required_column_that_is_not_mapped_is_pointed_out(user: User):
    await user.open("/customers/import")
    await _upload(user, b"Address,Name\nada@example.com,Ada\n")
    await user.should_see(marker="map-email")
    select = user.find("map-email").elements.pop()
    assert select.value is None
    assert select.props["error-message"] == "Choose the column that holds the email."
    user.find("map-email").click()
    user.find("Address").click()
    await user.should_see("1 row: 1 new customer, 0 customers to update, 0 unchanged.")


async def test_a_file_that_is_not_csv_is_refused_with_a_reason(user: User):
    await user.open("/customers/import")
    await _upload(user, b"PK\x03\x04\x00\x00\x00", name="customers.xlsx")
    await user.should_see("customers.xlsx: This is not a CSV file")


async def test_memberships_are_imported_by_email_and_group_code(user: User):
    ada, ben = await Customer.filter(memberships__group__code="RETAIL").order_by("id").limit(2)
    data = f"Email,Group code\n{ada.email},wholesale\n{ben.email},NOPE\n".encode()
    await user.open("/customers/import")
    user.find("Group memberships").click()
    await _upload(user, data, name="members.csv")
    await user.should_see("2 rows: 1 for Wholesale, 1 row with errors.")
    errors = user.find("import-errors").elements.pop()
    assert [(r["row"], r["message"]) for r in errors.rows] == [(3, "There is no group with the code “NOPE”.")]
    user.find("Move from current group").click()
    user.find("import-button").click()
    await user.should_see("Imported: 1 membership added, 0 already there.")
    groups = await Membership.filter(customer_id=ada.id).values_list("group__code", flat=True)
    assert groups == ["WHOLESALE"]


async def test_a_full_group_takes_the_rows_it_has_room_for_and_the_rest_are_listed(user: User):
    ada, ben = await Customer.filter(memberships__group__code="RETAIL").order_by("id").limit(2)
    wholesale = await CustomerGroup.get(code="WHOLESALE")
    await CustomerGroup.filter(id=wholesale.id).update(capacity=wholesale.member_count + 1)
    data = f"Email,Group code\n{ada.email},wholesale\n{ben.email},wholesale\n".encode()
    await user.open("/customers/import")
    user.find("Group memberships").click()
    await _upload(user, data, name="members.csv")
    await user.should_see("2 rows: 1 for Wholesale, 1 row with errors.")
    full = f"Wholesale is full: {wholesale.member_count + 1:,} of {wholesale.member_count + 1:,}."
    errors = user.find("import-errors").elements.pop()
    assert [(r["row"], r["message"]) for r in errors.rows] == [(3, full)]
    user.find("import-button").click()
    await user.should_see("Imported: 1 membership added, 0 already there.")
    await user.should_see("1 row with errors left out (listed above).")
    assert await Membership.exists(group_id=wholesale.id, customer_id=ada.id)
    assert not await Membership.exists(group_id=wholesale.id, customer_id=ben.id)


async def test_the_customer_list_can_be_exported_and_leads_to_the_import(user: User):
    await user.open("/customers")
    user.find("customer-search").type("Acme")
    await user.should_see("1 customer")
    user.find("export-customers").click()
    response = await user.download.next()
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Name"] for r in rows] == ["Acme Corporation"]
    user.find("import-customers").click()
    await user.should_see("Import from CSV")

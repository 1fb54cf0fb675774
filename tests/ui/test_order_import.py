"""What a shop owner sees importing their shop's orders export on the Import page."""

from nicegui import ui
from nicegui.testing import User

from models.customer import Customer, Order

HEADER = (
    "Name,Email,Financial Status,Total,Currency,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku"
)


async def _upload(user: User, data: bytes, name: str = "orders_export.csv") -> None:
    upload = user.find("import-upload").elements.pop()
    await upload.handle_uploads([ui.upload.SmallFileUpload(name, "text/csv", data)])


async def test_a_shopify_export_is_recognised_previewed_and_imported(user: User):
    email = (await Customer.all().order_by("id").first()).email
    before = await Order.all().count()
    rows = [
        HEADER,
        f"#5001,{email},paid,30.00,USD,2025-03-01 10:00:00 +0000,1,Mug,10.00,MUG-1",
        "#5001,,,,,,1,Plate,20.00,PLA-1",
        "#5002,stranger@example.com,paid,5.00,USD,2025-03-02 10:00:00 +0000,1,Spoon,5.00,SPO-1",
    ]
    await user.open("/customers/import")
    user.find("Orders").click()
    await user.should_see("A known order number updates that order.", retries=20)
    await _upload(user, ("\n".join(rows) + "\n").encode())
    await user.should_see("Recognised: Shopify orders export.")
    await user.should_see("3 rows: 1 order, 1 new, 0 to update, 0 unchanged, 1 row with errors.")
    preview = user.find("import-preview").elements.pop()
    assert [(r["row"], r["action"], r["number"], r["total"], r["lines"]) for r in preview.rows] == [
        (2, "New", "#5001", "$30.00", "2 items"),
        (4, "Error", "#5002", "5.00", ""),
    ]
    errors = user.find("import-errors").elements.pop()
    assert [(r["row"], r["column"]) for r in errors.rows] == [(4, "Customer email")]

    user.find("Create customers for unknown emails").click()
    await user.should_see("3 rows: 2 orders, 2 new, 0 to update, 0 unchanged, 1 new customer.")
    user.find("import-button").click()
    await user.should_see("Imported: 2 orders new, 0 updated, 0 unchanged, 1 customer created.")
    await user.should_see("Every order in the file is saved as it is: nothing to change.")
    assert await Order.all().count() == before + 2
    assert await Customer.filter(email="stranger@example.com").exists()

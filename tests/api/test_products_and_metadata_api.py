"""A shop's own script keeps the catalog and its group data in step through the API: products by
SKU (one, a batch, a CSV file) with their costs, and a group's metadata."""

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


async def test_a_product_is_created_by_its_sku_updated_and_read_back(client: httpx.AsyncClient, owner: dict):
    body = {"name": "Walnut desk", "category": "Office Furniture (API)", "base_price_cents": 89_900}
    created = await client.put(f"{PREFIX}/products/desk-api-1", headers=owner, json=body)
    assert created.status_code == 200, created.text
    desk = created.json()
    assert (desk["sku"], desk["category_name"], desk["cost_cents"]) == ("DESK-API-1", "Office Furniture (API)", None)

    again = await client.put(f"{PREFIX}/products/DESK-API-1", headers=owner, json=body)
    assert again.json() == desk, "sending it again changes nothing"
    costed = await client.put(f"{PREFIX}/products/desk-api-1", headers=owner, json={"cost_cents": 41_000})
    assert (costed.json()["name"], costed.json()["cost_cents"]) == ("Walnut desk", 41_000)
    forgotten = await client.put(f"{PREFIX}/products/desk-api-1", headers=owner, json={"cost_cents": None})
    assert forgotten.json()["cost_cents"] is None

    read = await client.get(f"{PREFIX}/products/Desk-Api-1", headers=owner)
    assert read.status_code == 200 and read.json()["id"] == desk["id"]
    listed = await client.get(f"{PREFIX}/products", headers=owner, params={"search": "DESK-API", "per_page": 5})
    assert [p["sku"] for p in listed.json()["items"]] == ["DESK-API-1"]
    missing = await client.get(f"{PREFIX}/products/NO-SUCH-SKU", headers=owner)
    assert missing.status_code == 404 and "NO-SUCH-SKU" in missing.json()["error"]


async def test_a_new_product_without_a_price_is_refused_by_field(client: httpx.AsyncClient, owner: dict):
    refused = await client.put(f"{PREFIX}/products/STOOL-API", headers=owner, json={"name": "Stool"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "category": "A new product needs a category.",
        "base_price_cents": "A new product needs a base price.",
    }


async def test_a_batch_is_saved_whole_or_not_at_all(client: httpx.AsyncClient, owner: dict):
    products = [
        {
            "sku": "BATCH-1",
            "name": "Lamp",
            "category": "Lighting (API)",
            "base_price_cents": 4_990,
            "cost_cents": 2_100,
        },
        {"sku": "BATCH-2", "name": "Shade", "category": "lighting (api)", "base_price_cents": 1_990},
    ]
    saved = await client.post(f"{PREFIX}/products/batch", headers=owner, json={"products": products})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"created": 2, "updated": 0, "unchanged": 0, "categories_created": ["Lighting (API)"]}
    retried = await client.post(f"{PREFIX}/products/batch", headers=owner, json={"products": products})
    assert retried.json()["unchanged"] == 2

    bad = [
        {"sku": "BATCH-3", "name": "Bulb", "category": "Lighting (API)", "base_price_cents": 500},
        {"sku": "BATCH-4"},
    ]
    refused = await client.post(f"{PREFIX}/products/batch", headers=owner, json={"products": bad})
    assert refused.status_code == 422
    assert refused.json()["errors"]["products.1.name"] == "A new product needs a name."
    assert (await client.get(f"{PREFIX}/products/BATCH-3", headers=owner)).status_code == 404


async def test_a_csv_file_of_products_is_imported(client: httpx.AsyncClient, owner: dict):
    data = b"SKU,Title,Product Type,Price,Cost per item\nCSV-API-1,Rug,Textiles (API),199.00,80.00\nCSV-API-2,,,x,\n"
    imported = await client.post(
        f"{PREFIX}/products/import", headers=owner | {"Content-Type": "text/csv"}, content=data
    )
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert (result["created"], result["error_rows"], result["categories_created"]) == (1, 1, ["Textiles (API)"])
    assert [e["row"] for e in result["errors"]] == [3]
    # As a generated client sends a file: plain bytes. The same file again changes nothing.
    again = await client.post(
        f"{PREFIX}/products/import", headers=owner | {"Content-Type": "application/octet-stream"}, content=data
    )
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 1)
    rug = (await client.get(f"{PREFIX}/products/CSV-API-1", headers=owner)).json()
    assert (rug["base_price_cents"], rug["cost_cents"]) == (19_900, 8_000)


async def test_a_viewer_reads_products_but_does_not_change_them(client: httpx.AsyncClient, tokens: Tokens):
    viewer = bearer(tokens.viewer)
    assert (await client.get(f"{PREFIX}/products", headers=viewer)).status_code == 200
    refused = await client.put(f"{PREFIX}/products/VIEW-1", headers=viewer, json={"cost_cents": 1})
    assert refused.status_code == 403


async def test_a_group_keeps_its_metadata_and_a_bad_key_is_refused_by_field(client: httpx.AsyncClient, owner: dict):
    created = await client.post(
        f"{PREFIX}/groups",
        headers=owner,
        json={"name": "Metadata API", "code": "META-API", "metadata": {"erp_id": "C-1042", "mailchimp.list": "vip"}},
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["metadata"] == {"erp_id": "C-1042", "mailchimp.list": "vip"}

    changed = await client.patch(
        f"{PREFIX}/groups/{group['id']}",
        headers=owner,
        json={"version": group["version"], "metadata": {"erp_id": "C-2000"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["metadata"] == {"erp_id": "C-2000"}
    renamed = await client.patch(
        f"{PREFIX}/groups/{group['id']}", headers=owner, json={"version": changed.json()["version"], "name": "Meta"}
    )
    assert renamed.json()["metadata"] == {"erp_id": "C-2000"}, "a change that leaves metadata out keeps it"

    refused = await client.post(
        f"{PREFIX}/groups", headers=owner, json={"name": "Bad", "code": "BAD-META", "metadata": {"erp id": "x"}}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "metadata": "The key “erp id” cannot be used: keys have up to 40 letters, digits, '_', '-' or '.'."
    }
    too_long = await client.post(
        f"{PREFIX}/groups", headers=owner, json={"name": "Bad", "code": "BAD-META", "metadata": {"notes": "x" * 501}}
    )
    assert too_long.status_code == 422 and "at most 500 characters" in too_long.json()["errors"]["metadata"]

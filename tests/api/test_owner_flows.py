"""What a shop's own scripts do through the API with the owner's token, and the answers they get."""

import sqlite3

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


async def group_id(client: httpx.AsyncClient, owner: dict, code: str) -> int:
    groups = (await client.get(f"{PREFIX}/groups", headers=owner, params={"search": code})).json()["items"]
    return next(g["id"] for g in groups if g["code"] == code)


async def test_a_group_is_created_filled_changed_and_deleted(client: httpx.AsyncClient, owner: dict):
    created = await client.post(
        f"{PREFIX}/groups", headers=owner, json={"name": "Trade Fair 2026", "code": "fair-26", "capacity": 5}
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["code"], group["type"], group["members"], group["capacity"]) == ("FAIR-26", "manual", 0, 5)

    added = await client.post(
        f"{PREFIX}/groups/{group['id']}/members",
        headers=owner,
        json={"customer_ids": [1, 2, 3], "reason": "Met at the fair"},
    )
    assert added.status_code == 200, added.text
    assert (added.json()["added"], added.json()["already"]) == (3, 0)
    assert added.json()["summary"].startswith("Added 3 customers to Trade Fair 2026")

    full = await client.post(f"{PREFIX}/groups/{group['id']}/members", headers=owner, json={"customer_ids": [4, 5, 6]})
    assert full.status_code == 422
    assert "capacity" in full.json()["errors"]

    members = await client.get(f"{PREFIX}/groups/{group['id']}/members", headers=owner, params={"per_page": 2})
    assert members.status_code == 200
    page = members.json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 1, 2, 2)
    second = (
        await client.get(f"{PREFIX}/groups/{group['id']}/members", headers=owner, params={"per_page": 2, "page": 2})
    ).json()
    assert {m["customer_id"] for m in page["items"] + second["items"]} == {1, 2, 3}

    renamed = await client.patch(
        f"{PREFIX}/groups/{group['id']}", headers=owner, json={"version": group["version"], "name": "Fair Leads"}
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["code"], renamed.json()["members"]) == ("Fair Leads", "FAIR-26", 3)
    stale = await client.patch(
        f"{PREFIX}/groups/{group['id']}", headers=owner, json={"version": group["version"], "name": "Too late"}
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]

    removed = await client.post(
        f"{PREFIX}/groups/{group['id']}/members/remove",
        headers=owner,
        json={"customer_ids": [3], "mode": "remove", "reason": "No longer interested"},
    )
    assert (removed.status_code, removed.json()["removed"]) == (200, 1)

    deleted = await client.delete(f"{PREFIX}/groups/{group['id']}", headers=owner)
    assert deleted.status_code == 200
    assert (deleted.json()["name"], deleted.json()["released"]) == ("Fair Leads", 2)
    gone = await client.get(f"{PREFIX}/groups/{group['id']}", headers=owner)
    assert gone.status_code == 404
    assert "no group" in gone.json()["error"]


async def test_input_that_cannot_be_saved_gets_a_message_per_field(client: httpx.AsyncClient, owner: dict):
    taken = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": "Wholesale", "code": "WHOLESALE"})
    assert taken.status_code == 422
    assert set(taken.json()["errors"]) == {"name", "code"}

    malformed = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": "", "code": "no spaces please"})
    assert malformed.status_code == 422
    assert {"name", "code"} <= set(malformed.json()["errors"])

    no_rule = await client.post(
        f"{PREFIX}/groups", headers=owner, json={"name": "Big", "code": "BIG", "type": "automatic"}
    )
    assert no_rule.status_code == 422
    assert "rule" in no_rule.json()["errors"]

    bad_rule = await client.post(
        f"{PREFIX}/rules/preview",
        headers=owner,
        json={"rule": {"match": "all", "conditions": [{"field": "total_purchases", "op": "gt", "value": "lots"}]}},
    )
    assert bad_rule.status_code == 422
    assert "rule:0" in bad_rule.json()["errors"]

    not_json = await client.post(
        f"{PREFIX}/customers", headers={**owner, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert not_json.status_code == 422
    assert "errors" in not_json.json()

    # A NUL cannot be stored in PostgreSQL: refused on both databases, in a body and in a query.
    nul_name = await client.post(f"{PREFIX}/promotions", headers=owner, json={"name": "Spring\x00Sale"})
    assert nul_name.status_code == 422
    assert "NUL" in nul_name.json()["errors"]["body"]
    nul_search = await client.get(f"{PREFIX}/customers", headers=owner, params={"search": "a\x00b"})
    assert nul_search.status_code == 422
    assert "NUL" in nul_search.json()["errors"]["query"]


async def test_lists_come_in_pages(client: httpx.AsyncClient, owner: dict, database: sqlite3.Connection):
    customers = database.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
    first = (await client.get(f"{PREFIX}/customers", headers=owner, params={"per_page": 10})).json()
    second = (await client.get(f"{PREFIX}/customers", headers=owner, params={"per_page": 10, "page": 2})).json()
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (customers, 1, 10, 10)
    assert {c["id"] for c in first["items"]}.isdisjoint({c["id"] for c in second["items"]})
    beyond = (await client.get(f"{PREFIX}/customers", headers=owner, params={"page": 1000})).json()
    assert (beyond["items"], beyond["total"]) == ([], customers)

    too_many = await client.get(f"{PREFIX}/customers", headers=owner, params={"per_page": 1000})
    assert too_many.status_code == 422
    assert "per_page" in too_many.json()["errors"]
    found = (await client.get(f"{PREFIX}/customers", headers=owner, params={"search": "acme"})).json()
    assert [c["name"] for c in found["items"]] == ["Acme Corporation"]
    injection = await client.get(f"{PREFIX}/customers", headers=owner, params={"search": "' OR 1=1 --"})
    assert (injection.status_code, injection.json()["total"]) == (200, 0)


async def read_to_the_end(client: httpx.AsyncClient, owner: dict, address: str, **params) -> list[dict]:
    """Every page of a list by following each page's `next`."""
    items: list[dict] = []
    answer = (await client.get(address, headers=owner, params={"per_page": 7, **params})).json()
    items += answer["items"]
    while answer["next"] is not None:
        answer = await client.get(address, headers=owner, params={"per_page": 7, **params, "after": answer["next"]})
        assert answer.status_code == 200, answer.text
        answer = answer.json()
        items += answer["items"]
    return items


async def test_a_sync_script_reads_every_customer_and_member_by_following_next(
    client: httpx.AsyncClient, owner: dict, database: sqlite3.Connection
):
    by_name = database.execute("SELECT id FROM customer ORDER BY name, id").fetchall()
    customers = await read_to_the_end(client, owner, f"{PREFIX}/customers")
    assert [c["id"] for c in customers] == [row[0] for row in by_name]

    searched = await read_to_the_end(client, owner, f"{PREFIX}/customers", search="example")
    matching = database.execute(
        "SELECT id FROM customer WHERE name LIKE '%example%' OR company LIKE '%example%' OR email LIKE '%example%' "
        "ORDER BY name, id"
    ).fetchall()
    assert [c["id"] for c in searched] == [row[0] for row in matching]

    retail = await group_id(client, owner, "RETAIL")
    members = database.execute(
        "SELECT c.id FROM membership m JOIN customer c ON c.id = m.customer_id WHERE m.group_id = ? ORDER BY c.name, c.id",
        (retail,),
    ).fetchall()
    assert len(members) > 7  # more than one page
    read = await read_to_the_end(client, owner, f"{PREFIX}/groups/{retail}/members")
    assert [m["customer_id"] for m in read] == [row[0] for row in members]

    last = (await client.get(f"{PREFIX}/customers", headers=owner, params={"page": 1000})).json()
    assert last["next"] is None


async def test_a_cursor_the_api_did_not_give_is_refused_with_a_message(client: httpx.AsyncClient, owner: dict):
    for after in ("not a cursor", "W10", "WyJBZGEiLCJ4Il0", "WyJBZGEiLDAsMV0", ""):  # garbage, [], ["Ada","x"], ...
        refused = await client.get(f"{PREFIX}/customers", headers=owner, params={"after": after})
        assert refused.status_code == 422, (after, refused.text)
        assert refused.json()["errors"]["after"].startswith("Not a cursor from this list")
    first = (await client.get(f"{PREFIX}/customers", headers=owner, params={"per_page": 5})).json()
    with_page = await client.get(f"{PREFIX}/customers", headers=owner, params={"after": first["next"], "page": 3})
    assert with_page.status_code == 422
    assert "page" in with_page.json()["errors"]


async def test_a_new_or_changed_customer_lands_in_the_groups_whose_rules_match(client: httpx.AsyncClient, owner: dict):
    rule = {"match": "all", "conditions": [{"field": "tags", "op": "has_any", "value": ["api-partner"]}]}
    group = await client.post(
        f"{PREFIX}/groups",
        headers=owner,
        json={"name": "API Partners", "code": "API-PARTNERS", "type": "automatic", "rule": rule},
    )
    assert group.status_code == 201, group.text

    created = await client.post(
        f"{PREFIX}/customers",
        headers=owner,
        json={
            "email": "Buyer@Partner.Example",
            "name": "Partner Buyer",
            "country": "de",
            "tags": ["API-Partner", "b2b"],
        },
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert (customer["email"], customer["country"], customer["tags"]) == (
        "buyer@partner.example",
        "DE",
        ["api-partner", "b2b"],
    )
    assert "API Partners" in [m["group_name"] for m in customer["memberships"]]

    again = await client.post(
        f"{PREFIX}/customers", headers=owner, json={"email": "buyer@partner.example", "name": "Twin"}
    )
    assert again.status_code == 422
    assert "email" in again.json()["errors"]

    changed = await client.patch(f"{PREFIX}/customers/{customer['id']}", headers=owner, json={"tags": ["b2b"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Partner Buyer"
    assert "API Partners" not in [m["group_name"] for m in changed.json()["memberships"]]

    refused = await client.patch(
        f"{PREFIX}/customers/{customer['id']}", headers=owner, json={"name": "Line\nbreak", "company": "Tab\there"}
    )
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"name", "company"}  # control characters
    country = await client.patch(f"{PREFIX}/customers/{customer['id']}", headers=owner, json={"country": "Germany"})
    assert (country.status_code, list(country.json()["errors"])) == (422, ["country"])


async def test_customers_are_imported_from_csv_or_json(client: httpx.AsyncClient, owner: dict):
    csv = "Email,Name,Country,Tags\nnew.one@example.com,New One,US,api-partner\nbroken,No Email,,\n"
    partial = await client.post(
        f"{PREFIX}/customers/import", headers={**owner, "Content-Type": "text/csv"}, content=csv.encode()
    )
    assert partial.status_code == 200, partial.text
    result = partial.json()
    assert (result["imported"], result["created"], result["error_rows"]) == (True, 1, 1)
    assert result["errors"][0]["row"] == 3 and result["errors"][0]["field"] == "email"

    rows = [{"email": "new.one@example.com", "name": "New One Renamed"}, {"email": "x", "name": "Bad"}]
    nothing = await client.post(f"{PREFIX}/customers/import", headers=owner, params={"all_or_nothing": True}, json=rows)
    assert (nothing.status_code, nothing.json()["imported"], nothing.json()["updated"]) == (200, False, 0)
    saved = await client.post(f"{PREFIX}/customers/import", headers=owner, json=rows[:1])
    assert (saved.json()["imported"], saved.json()["updated"]) == (True, 1)

    wrong_shape = await client.post(f"{PREFIX}/customers/import", headers=owner, json=[{"name": "No email"}])
    assert wrong_shape.status_code == 422
    assert "0.email" in wrong_shape.json()["errors"]


async def test_a_quote_and_the_benefits_explain_a_customers_prices(
    client: httpx.AsyncClient, owner: dict, database: sqlite3.Connection
):
    products = [row[0] for row in database.execute("SELECT id FROM product ORDER BY id LIMIT 2")]
    quote = await client.post(
        f"{PREFIX}/customers/1/quote",
        headers=owner,
        json={"lines": [{"product_id": products[0], "quantity": 3}, {"product_id": products[1]}], "date": "2026-04-15"},
    )
    assert quote.status_code == 200, quote.text
    result = quote.json()
    assert result["customer_name"] == "Acme Corporation"
    assert [line["quantity"] for line in result["lines"]] == [3, 1]
    for line in result["lines"]:
        assert line["winner"]["won"] and line["unit_cents"] == line["winner"]["unit_cents"] <= line["base_unit_cents"]
        assert any(c["source"] == "Base price" for c in line["candidates"])
    assert result["total_cents"] == sum(line["total_cents"] for line in result["lines"])
    assert result["savings_cents"] == result["base_total_cents"] - result["total_cents"]

    empty = await client.post(f"{PREFIX}/customers/1/quote", headers=owner, json={"lines": []})
    assert (empty.status_code, list(empty.json()["errors"])) == (422, ["lines"])
    unknown = await client.post(
        f"{PREFIX}/customers/999999/quote", headers=owner, json={"lines": [{"product_id": products[0]}]}
    )
    assert unknown.status_code == 404

    benefits = (await client.get(f"{PREFIX}/customers/1/benefits", headers=owner)).json()
    assert benefits["primary_group"] == "VIP Platinum"
    platinum = next(g for g in benefits["groups"] if g["group_name"] == "VIP Platinum")
    assert platinum["pricing"]["percent"]["value"] == 20


async def test_promotions_are_created_read_replaced_and_deleted(client: httpx.AsyncClient, owner: dict):
    vip = await group_id(client, owner, "VIP")
    data = {
        "name": "API Summer Sale",
        "status": "active",
        "target_group_ids": [vip],
        "percent": 10,
        "valid_from": "2026-06-01",
        "valid_to": "2026-06-30",
    }
    created = await client.post(f"{PREFIX}/promotions", headers=owner, json=data)
    assert created.status_code == 201, created.text
    promotion = created.json()
    assert (promotion["targets"], promotion["percent"], promotion["status"]) == (["VIP Customers"], 10, "active")

    listed = (await client.get(f"{PREFIX}/promotions", headers=owner, params={"per_page": 200})).json()
    assert promotion["id"] in [p["id"] for p in listed["items"]]
    replaced = await client.put(
        f"{PREFIX}/promotions/{promotion['id']}",
        headers=owner,
        json={**data, "percent": 15, "version": promotion["version"]},
    )
    assert (replaced.status_code, replaced.json()["percent"]) == (200, 15)
    reread = (await client.get(f"{PREFIX}/promotions/{promotion['id']}", headers=owner)).json()
    assert reread["summary"].startswith("15% additional")

    no_targets = await client.post(
        f"{PREFIX}/promotions", headers=owner, json={**data, "name": "Other", "target_group_ids": []}
    )
    assert (no_targets.status_code, list(no_targets.json()["errors"])) == (422, ["target_group_ids"])

    deleted = await client.delete(f"{PREFIX}/promotions/{promotion['id']}", headers=owner)
    assert deleted.json() == {"id": promotion["id"], "name": "API Summer Sale"}
    assert (await client.get(f"{PREFIX}/promotions/{promotion['id']}", headers=owner)).status_code == 404


async def test_a_manager_token_manages_groups_but_not_staff_matters(client: httpx.AsyncClient, tokens: Tokens):
    manager = bearer(tokens.manager)
    created = await client.post(f"{PREFIX}/groups", headers=manager, json={"name": "Managed", "code": "MANAGED"})
    assert created.status_code == 201
    assert (await client.delete(f"{PREFIX}/groups/{created.json()['id']}", headers=manager)).status_code == 200

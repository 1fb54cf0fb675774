"""Nobody gets into the API without a valid token, and a viewer's token changes nothing; the
session cookie of the pages stays on this site.

The routes are enumerated from the running app's OpenAPI document, so a route added later is
covered without touching these tests. That the document lists every API route the app serves, and
that every route but a few public ones needs a token or a signed-in person, is checked against the
app's own route table in tests/ui/test_access.py (which runs app.py in the test's process)."""

import re
import sqlite3

import httpx

from api import PREFIX
from tests.api.conftest import Tokens, bearer

WRITE_METHODS = {"post", "put", "patch", "delete"}
READS_BY_POST = {
    ("post", "/api/v1/rules/preview"),
    ("post", "/api/v1/customers/{customer_id}/quote"),
    ("post", "/api/v1/groups/{group_id}/ladder/preview"),
    ("post", "/api/v1/groups/{group_id}/rung-preview"),
}


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path template) of every operation in the OpenAPI document."""
    response = await client.get(f"{PREFIX}/openapi.json")  # public: no token
    assert response.status_code == 200
    return [(method, path) for path, item in response.json()["paths"].items() for method in item]


def filled(path: str, **ids: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


async def test_the_openapi_document_lists_only_api_routes(client: httpx.AsyncClient):
    documented = set(await operations(client))
    assert all(path.startswith(f"{PREFIX}/") for _, path in documented)
    assert len(documented) >= 21


async def test_the_session_cookie_never_rides_along_on_another_sites_requests(client: httpx.AsyncClient):
    response = await client.get("/login")
    cookies = [value.lower() for value in response.headers.get_list("set-cookie")]
    session = [cookie for cookie in cookies if cookie.startswith("session=")]
    assert session, f"the sign-in page starts a session: {cookies}"
    attributes = {part.strip() for part in session[0].split(";")}
    assert {"samesite=strict", "httponly", "path=/"} <= attributes, session[0]


async def test_every_route_refuses_a_request_without_a_valid_token(client: httpx.AsyncClient, tokens: Tokens):
    refused = {
        "no token": {},
        "not a bearer token": {"Authorization": f"Basic {tokens.owner}"},
        "unknown token": bearer("cg_" + "x" * 43),
        "revoked token": bearer(tokens.revoked),
        "deactivated account": bearer(tokens.deactivated),
    }
    for method, path in await operations(client):
        for case, headers in refused.items():
            body = {"json": {}} if method in WRITE_METHODS - {"delete"} else {}
            response = await client.request(method, filled(path), headers=headers, **body)
            assert response.status_code == 401, f"{method.upper()} {path} with {case}: {response.status_code}"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert set(response.json()) == {"error"}


async def test_a_viewer_reads_but_every_change_is_refused_naming_the_permission(
    client: httpx.AsyncClient, tokens: Tokens, database: sqlite3.Connection
):
    viewer = bearer(tokens.viewer)
    groups = (await client.get(f"{PREFIX}/groups", headers=viewer)).json()["items"]
    wholesale = next(g["id"] for g in groups if g["code"] == "WHOLESALE")
    retail = next(g["id"] for g in groups if g["code"] == "RETAIL")
    promotion = (await client.get(f"{PREFIX}/promotions", headers=viewer)).json()["items"][0]["id"]
    product, sku = database.execute("SELECT id, sku FROM product ORDER BY id LIMIT 1").fetchone()
    order = database.execute('SELECT MIN(id) FROM "order"').fetchone()[0]
    ids = {"group_id": wholesale, "customer_id": 1, "promotion_id": promotion, "sku": sku, "order_id": order}
    an_order = {"number": "VIEWER-1", "customer_id": 1, "total_cents": 1_000, "placed_at": "2026-11-01T10:00:00Z"}
    # A request that would succeed for the owner, for each operation, so only the role stops it.
    bodies = {
        ("post", "/api/v1/groups"): {"name": "Viewer's group", "code": "VIEWERS"},
        ("patch", "/api/v1/groups/{group_id}"): {"version": 1, "name": "Renamed by a viewer"},
        ("delete", "/api/v1/groups/{group_id}"): None,
        ("post", "/api/v1/groups/{group_id}/members"): {"customer_ids": [1, 2]},
        ("post", "/api/v1/groups/{group_id}/members/remove"): {
            "customer_ids": [1],
            "mode": "other_group",
            "target_group_id": retail,
        },
        ("post", "/api/v1/customers"): {"email": "viewer-made@example.com", "name": "Made By Viewer"},
        ("patch", "/api/v1/customers/{customer_id}"): {"name": "Renamed By Viewer"},
        ("post", "/api/v1/customers/import"): [{"email": "imported@example.com", "name": "Imported"}],
        ("post", "/api/v1/promotions"): {"name": "Viewer sale", "percent": 5},
        ("put", "/api/v1/promotions/{promotion_id}"): {"version": 1, "name": "Viewer sale", "percent": 5},
        ("delete", "/api/v1/promotions/{promotion_id}"): None,
        ("post", "/api/v1/rules/preview"): {
            "rule": {"match": "all", "conditions": [{"field": "order_count", "op": "gt", "value": 3}]}
        },
        ("post", "/api/v1/customers/{customer_id}/quote"): {"lines": [{"product_id": product, "quantity": 2}]},
        ("post", "/api/v1/groups/{group_id}/ladder/preview"): {"rung_order": [retail]},
        ("post", "/api/v1/groups/{group_id}/rung-preview"): {
            "rule": {"match": "all", "conditions": [{"field": "order_count", "op": "gt", "value": 3}]}
        },
        ("post", "/api/v1/groups/{group_id}/ladder"): {"rung_order": [retail]},
        ("patch", "/api/v1/groups/{group_id}/ladder"): {"hold_days": 30},
        ("delete", "/api/v1/groups/{group_id}/ladder"): None,
        ("post", "/api/v1/groups/{group_id}/ladder/run"): None,
        ("post", "/api/v1/orders"): an_order,
        ("post", "/api/v1/orders/batch"): {"orders": [an_order]},
        ("patch", "/api/v1/orders/{order_id}"): {"status": "refunded"},
        ("post", "/api/v1/products/batch"): {
            "products": [
                {"sku": "VIEWER-SKU", "name": "Viewer's product", "category": "Tools", "base_price_cents": 999}
            ]
        },
        ("put", "/api/v1/products/{sku}"): {"name": "Renamed by a viewer"},
        ("post", "/api/v1/products/import"): None,
    }
    everything = await operations(client)
    writes = {(m, p) for m, p in everything if m in WRITE_METHODS}
    assert writes == set(bodies), "give every new write route a request here"

    before = snapshot(database)
    for method, path in everything:
        body = bodies.get((method, path))
        response = await client.request(
            method, filled(path, **ids), headers=viewer, **({} if body is None else {"json": body})
        )
        if method == "get" or (method, path) in READS_BY_POST:
            assert response.status_code == 200, f"{method.upper()} {path}: {response.text}"
            continue
        assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code} {response.text}"
        assert re.fullmatch(
            r'You need the "Manage \w+" permission for this; your role \(Viewer\).*', response.json()["error"]
        )
    assert snapshot(database) == before


def snapshot(database: sqlite3.Connection) -> dict[str, list]:
    """What a refused change must leave exactly as it was."""
    tables = (
        "customer",
        "customer_tag",
        "customer_group",
        "membership",
        "membership_event",
        "promotion",
        "order",
        "product",
    )
    return {table: database.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall() for table in tables}

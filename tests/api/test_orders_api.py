"""A shop's own script sends its orders through the API: created once however often it retries,
refunds taking them out of the purchases, a customer's orders read back page by page."""

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


async def _customer(client: httpx.AsyncClient, owner: dict, email: str) -> dict:
    created = await client.post(f"{PREFIX}/customers", headers=owner, json={"email": email, "name": "Order Tester"})
    assert created.status_code == 201, created.text
    return created.json()


def _order(number: str, **fields) -> dict:
    return {"number": number, "placed_at": "2025-05-01T10:00:00Z", "total_cents": 12_500, **fields}


async def test_an_order_sent_twice_counts_once_and_a_refund_takes_it_out(client: httpx.AsyncClient, owner: dict):
    customer = await _customer(client, owner, "retry@example.com")
    body = _order(
        "#A-1",
        customer_email="Retry@Example.com",
        currency="USD",
        lines=[{"sku": "MUG-1", "name": "Mug", "quantity": 5, "price_cents": 2_500}],
    )
    first = await client.post(f"{PREFIX}/orders", headers=owner, json=body)
    assert first.status_code == 200, first.text
    assert (first.json()["number"], first.json()["outcome"]) == ("#A-1", "created")
    again = await client.post(f"{PREFIX}/orders", headers=owner, json=body)
    assert (again.json()["id"], again.json()["outcome"]) == (first.json()["id"], "unchanged")

    read = (await client.get(f"{PREFIX}/customers/{customer['id']}", headers=owner)).json()
    assert (read["lifetime_cents"], read["order_count"], read["average_order_cents"]) == (12_500, 1, 12_500)

    refunded = await client.patch(f"{PREFIX}/orders/{first.json()['id']}", headers=owner, json={"status": "refunded"})
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["lines"][0]["quantity"]) == ("refunded", 5)
    read = (await client.get(f"{PREFIX}/customers/{customer['id']}", headers=owner)).json()
    assert (read["lifetime_cents"], read["order_count"]) == (0, 0)


async def test_a_batch_says_what_it_created_updated_and_left(client: httpx.AsyncClient, owner: dict):
    customer = await _customer(client, owner, "batch@example.com")
    orders = [_order(f"#B-{i}", customer_id=customer["id"], total_cents=1_000 * i) for i in range(1, 4)]
    created = await client.post(f"{PREFIX}/orders/batch", headers=owner, json={"orders": orders})
    assert created.status_code == 200, created.text
    assert (created.json()["created"], created.json()["updated"], created.json()["unchanged"]) == (3, 0, 0)

    orders[0]["status"] = "cancelled"
    retried = await client.post(f"{PREFIX}/orders/batch", headers=owner, json={"orders": orders})
    assert [o["outcome"] for o in retried.json()["orders"]] == ["updated", "unchanged", "unchanged"]
    read = (await client.get(f"{PREFIX}/customers/{customer['id']}", headers=owner)).json()
    assert (read["lifetime_cents"], read["order_count"]) == (5_000, 2)

    page = await client.get(f"{PREFIX}/customers/{customer['id']}/orders", headers=owner, params={"per_page": 2})
    assert page.status_code == 200, page.text
    listed = page.json()
    assert (listed["total"], listed["page"], listed["per_page"], len(listed["items"])) == (3, 1, 2, 2)
    second = (
        await client.get(
            f"{PREFIX}/customers/{customer['id']}/orders", headers=owner, params={"per_page": 2, "page": 2}
        )
    ).json()
    assert {o["number"] for o in listed["items"] + second["items"]} == {"#B-1", "#B-2", "#B-3"}


async def test_bad_orders_are_refused_by_field_and_unknown_ones_are_not_found(
    client: httpx.AsyncClient, owner: dict, tokens: Tokens
):
    customer = await _customer(client, owner, "refused@example.com")
    future = _order("#C-1", customer_id=customer["id"], placed_at="2999-01-01T00:00:00Z")
    twice = _order("#C-2", customer_id=customer["id"])
    refused = await client.post(f"{PREFIX}/orders/batch", headers=owner, json={"orders": [future, twice, twice]})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        "orders.0.placed_at": "The order is dated 2999-01-01 00:00, in the future.",
        "orders.2.number": "Order #C-2 is already in this batch, as order 1.",
    }
    negative = await client.post(f"{PREFIX}/orders", headers=owner, json=_order("#C-3", total_cents=-1))
    assert negative.status_code == 422 and "total_cents" in negative.json()["errors"]
    no_customer = await client.post(f"{PREFIX}/orders", headers=owner, json=_order("#C-4"))
    assert no_customer.json()["errors"] == {"orders.0.customer_email": "Give the customer's id or email."}

    unknown = await client.post(f"{PREFIX}/orders", headers=owner, json=_order("#C-5", customer_email="no@example.com"))
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "There is no customer with the email no@example.com."}
    assert (
        await client.patch(f"{PREFIX}/orders/999999", headers=owner, json={"status": "refunded"})
    ).status_code == 404
    assert (await client.get(f"{PREFIX}/customers/999999/orders", headers=owner)).status_code == 404

    viewer = await client.post(
        f"{PREFIX}/orders", headers=bearer(tokens.viewer), json=_order("#C-6", customer_id=customer["id"])
    )
    assert viewer.status_code == 403
    listed = await client.get(f"{PREFIX}/customers/{customer['id']}/orders", headers=owner)
    assert listed.json()["total"] == 0, "nothing of the refused calls was saved"

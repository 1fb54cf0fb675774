"""A shop's developer generates a Python client from the live OpenAPI document (openapi-python-client)
and drives the API with it: orders in, a rule group's members out. Every operation has a short,
stable name, so the generated functions read like the API's own verbs."""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "customer_groups_client"


@pytest.fixture(scope="module")
def generated(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The client package generated from the running app's document; yields its import name."""
    folder = tmp_path_factory.mktemp("generated-client")
    document = folder / "openapi.json"
    document.write_text(httpx.get(f"{api_url}{PREFIX}/openapi.json", timeout=30).text)
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none", "--output-path", str(folder / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def part(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def test_every_operation_is_generated_under_its_own_short_name(generated: str, api_url: str):
    document = httpx.get(f"{api_url}{PREFIX}/openapi.json", timeout=30).json()
    ids = [operation["operationId"] for path in document["paths"].values() for operation in path.values()]
    assert len(ids) == len(set(ids))
    assert all(name.isidentifier() and "_" not in name and len(name) <= 30 for name in ids), ids
    for tag, function in [
        ("orders", "create_orders"),
        ("groups", "create_group"),
        ("groups", "list_members"),
        ("customers", "import_customers"),
        ("customers", "create_customer"),
    ]:
        assert hasattr(part(generated, f"api.{tag}.{function}"), "sync"), f"{tag}.{function}"


def test_orders_sent_through_the_generated_client_bring_a_customer_into_a_rule_group(
    generated: str, api_url: str, tokens: Tokens
):
    models = part(generated, "models")
    client = part(generated, "client").AuthenticatedClient(base_url=api_url, token=tokens.owner)
    create_customer = part(generated, "api.customers.create_customer")
    create_orders = part(generated, "api.orders.create_orders")
    create_group = part(generated, "api.groups.create_group")
    list_members = part(generated, "api.groups.list_members")

    big, small = (
        create_customer.sync(
            client=client,
            body=models.CustomerIn(email=email, name=name, tags=["generated-client"]),
        )
        for email, name in (("ines@trade.example", "Ines Trading"), ("otto@trade.example", "Otto Retail"))
    )
    assert (big.order_count, small.order_count) == (0, 0)

    orders = [
        models.OrderIn(number=number, customer_email=email, total_cents=cents, placed_at=datetime.fromisoformat(at))
        for number, email, cents, at in (
            ("GC-1001", "ines@trade.example", 4_000_000, "2026-10-01T10:00:00+00:00"),
            ("GC-1002", "ines@trade.example", 2_500_000, "2026-11-02T10:00:00+00:00"),
            ("GC-1003", "otto@trade.example", 900_000, "2026-11-03T10:00:00+00:00"),
        )
    ]
    saved = create_orders.sync(client=client, body=models.OrdersIn(orders=orders))
    assert isinstance(saved, models.OrdersSavedOut), saved
    # Sent again, as a retry after a timeout would: nothing is counted twice.
    again = create_orders.sync(client=client, body=models.OrdersIn(orders=orders))
    assert isinstance(again, models.OrdersSavedOut), again

    rule = models.GroupInRuleType0.from_dict(
        {
            "match": "all",
            "conditions": [
                {"field": "tags", "op": "has_any", "value": ["generated-client"]},
                {"field": "total_purchases", "op": "gt", "value": 5_000_000},
            ],
        }
    )
    group = create_group.sync(
        client=client,
        body=models.GroupIn(name="Big Traders", code="BIG-TRADERS", type_=models.GroupType.AUTOMATIC, rule=rule),
    )
    assert isinstance(group, models.GroupOut), group
    members = list_members.sync(group.id, client=client)
    assert [m.name for m in members.items] == ["Ines Trading"]
    assert members.items[0].lifetime_cents == 6_500_000

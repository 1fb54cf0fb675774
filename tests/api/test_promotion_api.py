"""What a shop's script gets back when it sends promotions the form would refuse, or replaces one
that someone else saved meanwhile."""

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


def sale(name: str, **changes) -> dict:
    return {"name": name, "status": "draft", "percent": 10, "valid_from": "2026-06-01", **changes}


async def test_a_first_day_in_year_one_is_refused_with_a_message_at_the_field(client: httpx.AsyncClient, owner: dict):
    refused = await client.post(f"{PREFIX}/promotions", headers=owner, json=sale("Year One", valid_from="0001-01-01"))
    assert (refused.status_code, refused.json()) == (
        422,
        {"errors": {"valid_from": "Enter a day in the years 2000 to 2100."}},
    )
    listed = (await client.get(f"{PREFIX}/promotions", headers=owner, params={"per_page": 200})).json()
    assert "Year One" not in [p["name"] for p in listed["items"]]

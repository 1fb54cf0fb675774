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


async def test_two_scripts_replacing_the_same_promotion_version_the_second_gets_409(
    client: httpx.AsyncClient, owner: dict
):
    created = (await client.post(f"{PREFIX}/promotions", headers=owner, json=sale("Night Sale"))).json()
    url = f"{PREFIX}/promotions/{created['id']}"
    first = await client.put(url, headers=owner, json=sale("Night Sale", percent=15, version=created["version"]))
    assert (first.status_code, first.json()["percent"], first.json()["version"]) == (200, 15, created["version"] + 1)
    second = await client.put(url, headers=owner, json=sale("Night Sale", percent=20, version=created["version"]))
    assert second.status_code == 409
    assert second.json() == {"error": "This promotion was changed by someone else after you opened it."}
    assert (await client.get(url, headers=owner)).json()["percent"] == 15
    unversioned = await client.put(url, headers=owner, json=sale("Night Sale", percent=25))
    assert (unversioned.status_code, list(unversioned.json()["errors"])) == (422, ["version"])


async def test_names_with_text_direction_marks_are_refused_for_groups_and_promotions(
    client: httpx.AsyncClient, owner: dict
):
    refusal = "Name contains hidden characters (such as tabs, line breaks or direction marks): remove them."
    group = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": "VIP \u202egnp.exe", "code": "RLO"})
    assert (group.status_code, group.json()) == (422, {"errors": {"name": refusal}})
    promotion = await client.post(f"{PREFIX}/promotions", headers=owner, json=sale("Sale \u2067x\u2069"))
    assert (promotion.status_code, promotion.json()) == (422, {"errors": {"name": refusal}})

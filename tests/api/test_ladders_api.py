"""A shop's script reads the demo's tier ladder, previews a lower Gold threshold in moves, saves it,
and hears the moves as one member.moved each, with from, to and direction."""

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


def gold_from(dollars: int) -> dict:
    """Gold Tier's rule with another floor (VIP customers, above $50,000, stay off the ladder)."""
    return {
        "match": "all",
        "conditions": [
            {"field": "total_purchases", "op": "gte", "value": dollars * 100},
            {"field": "total_purchases", "op": "lte", "value": 5_000_000},
        ],
    }


async def _groups(client: httpx.AsyncClient, owner: dict) -> dict[str, int]:
    listed = await client.get(f"{PREFIX}/groups", headers=owner, params={"per_page": 200})
    return {g["code"]: g["id"] for g in listed.json()["items"]}


async def test_a_lower_gold_threshold_is_previewed_and_sent_as_moves_up(client: httpx.AsyncClient, owner: dict):
    groups = await _groups(client, owner)
    ladder = (await client.get(f"{PREFIX}/groups/{groups['TIERED']}/ladder", headers=owner)).json()
    assert ladder["is_ladder"] and [r["name"] for r in ladder["rungs"]] == ["Gold Tier", "Silver Tier", "Bronze Tier"]
    cursor = (await client.get(f"{PREFIX}/membership-events", headers=owner, params={"limit": 1000})).json()
    while True:  # catch up with what is there already
        page = (
            await client.get(
                f"{PREFIX}/membership-events", headers=owner, params={"after": cursor["next"], "limit": 1000}
            )
        ).json()
        if not page["items"]:
            break
        cursor = page

    preview = await client.post(
        f"{PREFIX}/groups/{groups['GOLD']}/rung-preview", headers=owner, json={"rule": gold_from(15_000)}
    )
    assert preview.status_code == 200, preview.text
    moves = preview.json()["moves"]
    [up] = moves["up_from"]
    assert (up["from_name"], moves["words"]) == ("Silver Tier", f"+{up['customers']:,} up from Silver Tier")

    gold = (await client.get(f"{PREFIX}/groups/{groups['GOLD']}", headers=owner)).json()
    saved = await client.patch(
        f"{PREFIX}/groups/{groups['GOLD']}", headers=owner, json={"version": gold["version"], "rule": gold_from(15_000)}
    )
    assert saved.status_code == 200, saved.text

    events = (
        await client.get(f"{PREFIX}/membership-events", headers=owner, params={"after": cursor["next"], "limit": 1000})
    ).json()["items"]
    moved = [e for e in events if e["type"] == "member.moved"]
    assert len(moved) == up["customers"] and not [e for e in events if e["type"] == "member.left"]
    assert {(e["from"]["name"], e["to"]["name"], e["direction"]) for e in moved} == {("Silver Tier", "Gold Tier", "up")}


async def test_a_group_without_subgroups_is_no_ladder(client: httpx.AsyncClient, owner: dict):
    groups = await _groups(client, owner)
    refused = await client.post(
        f"{PREFIX}/groups/{groups['WHOLESALE']}/ladder", headers=owner, json={"rung_order": [1]}
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "errors": {"ladder": "Wholesale has no subgroups. Add the tiers as its subgroups, then make it a ladder."}
    }
    not_a_rung = await client.post(
        f"{PREFIX}/groups/{groups['WHOLESALE']}/rung-preview", headers=owner, json={"rule": gold_from(1)}
    )
    assert (not_a_rung.status_code, not_a_rung.json()) == (200, None)


async def test_a_customer_on_two_rungs_leaves_the_lower_one_and_the_feed_names_the_rung_kept(
    client: httpx.AsyncClient, owner: dict
):
    async def group(name: str, code: str, **more: object) -> int:
        made = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": name, "code": code, **more})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    club = await group("Kept Club", "KEPT-CLUB")
    premium = await group("Kept Premium", "KEPT-PREMIUM", parent_id=club)
    plus = await group("Kept Plus", "KEPT-PLUS", parent_id=club)
    for rung in (premium, plus):  # customer 3 on both, as tiers written as separate groups have it
        added = await client.post(f"{PREFIX}/groups/{rung}/members", headers=owner, json={"customer_ids": [3]})
        assert added.status_code == 200, added.text
    cursor = (await client.get(f"{PREFIX}/membership-events", headers=owner, params={"limit": 1000})).json()
    while page := (
        await client.get(f"{PREFIX}/membership-events", headers=owner, params={"after": cursor["next"], "limit": 1000})
    ).json()["items"]:
        cursor = {"next": page[-1]["id"]}

    made = await client.post(f"{PREFIX}/groups/{club}/ladder", headers=owner, json={"rung_order": [premium, plus]})
    assert made.status_code == 201, made.text

    events = (
        await client.get(f"{PREFIX}/membership-events", headers=owner, params={"after": cursor["next"], "limit": 1000})
    ).json()["items"]
    [left] = [e for e in events if e["customer"]["id"] == 3]
    assert (left["type"], left["group"]["name"]) == ("member.left", "Kept Plus")
    assert (left["kept"]["id"], left["kept"]["name"]) == (premium, "Kept Premium")

"""The change feed: a shop's script that polls GET /membership-events instead of receiving webhooks
pages through every join, leave and move in order, and keeps its place with the cursor."""

import httpx

from api import PREFIX
from tests.api.conftest import Tokens, bearer


async def _all_pages(client: httpx.AsyncClient, headers: dict, *, after: str | None, limit: int) -> tuple[list, str]:
    items: list = []
    while True:
        params = {"limit": limit} | ({"after": after} if after else {})
        answer = await client.get(f"{PREFIX}/membership-events", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        if not page["items"]:
            return items, page["next"]
        items += page["items"]
        after = page["next"]


async def test_a_poller_sees_every_join_leave_and_move_in_order(client: httpx.AsyncClient, tokens: Tokens):
    owner, viewer = bearer(tokens.owner), bearer(tokens.viewer)
    # Where the shop's script starts: the end of the feed as it is now.
    _, cursor = await _all_pages(client, viewer, after=None, limit=200)

    made = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": "Feed Test", "code": "FEED"})
    group = made.json()["id"]
    target = (
        await client.post(f"{PREFIX}/groups", headers=owner, json={"name": "Feed Target", "code": "FEED-2"})
    ).json()
    added = await client.post(f"{PREFIX}/groups/{group}/members", headers=owner, json={"customer_ids": [1, 2, 3, 4, 5]})
    assert added.status_code == 200, added.text
    removed = await client.post(
        f"{PREFIX}/groups/{group}/members/remove",
        headers=owner,
        json={"customer_ids": [1, 2], "mode": "other_group", "target_group_id": target["id"], "reason": "Upgrade"},
    )
    assert removed.status_code == 200, removed.text
    left = await client.post(
        f"{PREFIX}/groups/{group}/members/remove", headers=owner, json={"customer_ids": [3], "mode": "remove"}
    )
    assert left.status_code == 200, left.text

    items, cursor_after = await _all_pages(client, viewer, after=cursor, limit=2)
    assert [(i["type"], i["customer"]["id"], i["group"]["code"]) for i in items] == [
        ("member.joined", 1, "FEED"),
        ("member.joined", 2, "FEED"),
        ("member.joined", 3, "FEED"),
        ("member.joined", 4, "FEED"),
        ("member.joined", 5, "FEED"),
        ("member.moved", 1, "FEED"),
        ("member.moved", 2, "FEED"),
        ("member.joined", 1, "FEED-2"),
        ("member.joined", 2, "FEED-2"),
        ("member.left", 3, "FEED"),
    ]
    assert items[5]["moved_to"] == "Feed Target" and items[7]["moved_from"] == "Feed Test"
    assert items[5]["reason"] == "Upgrade"
    numbers = [int(i["id"].removeprefix("evt_")) for i in items]
    assert numbers == sorted(numbers) and cursor_after == items[-1]["id"]

    # The same cursor gives the same page again: a script that crashed before saving its place
    # asks again and gets the same events.
    again = await client.get(f"{PREFIX}/membership-events", headers=viewer, params={"after": cursor, "limit": 3})
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in items[:3]]
    caught_up = await client.get(f"{PREFIX}/membership-events", headers=viewer, params={"after": cursor_after})
    assert caught_up.json() == {"items": [], "next": cursor_after}


async def test_a_bad_cursor_or_no_token_is_refused(client: httpx.AsyncClient, tokens: Tokens):
    refused = await client.get(
        f"{PREFIX}/membership-events", headers=bearer(tokens.viewer), params={"after": "tuesday"}
    )
    assert refused.status_code == 422 and "after" in refused.json()["errors"]
    too_many = await client.get(f"{PREFIX}/membership-events", headers=bearer(tokens.viewer), params={"limit": 5000})
    assert too_many.status_code == 422
    assert (await client.get(f"{PREFIX}/membership-events")).status_code == 401


async def test_the_feed_is_in_the_openapi_document(client: httpx.AsyncClient):
    document = (await client.get(f"{PREFIX}/openapi.json")).json()
    operation = document["paths"][f"{PREFIX}/membership-events"]["get"]
    assert operation["operationId"] == "listMembershipEvents"

"""A shop's script makes a ladder of a parent that holds customers of its own: the preview names the
problem, making it answers 422 with the message at "ladder" and changes nothing; once the script
has moved them out, the ladder is made."""

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Tokens, bearer


@pytest.fixture
def owner(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.owner)


async def test_a_parent_holding_customers_is_made_a_ladder_once_they_are_moved(client: httpx.AsyncClient, owner: dict):
    async def group(name: str, code: str, **more: object) -> int:
        made = await client.post(f"{PREFIX}/groups", headers=owner, json={"name": name, "code": code, **more})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    club = await group("Own Club", "OWN-CLUB")
    order = [
        await group("Own Premium", "OWN-PREMIUM", parent_id=club),
        await group("Own Plus", "OWN-PLUS", parent_id=club),
    ]
    added = await client.post(f"{PREFIX}/groups/{club}/members", headers=owner, json={"customer_ids": [1, 2]})
    assert added.status_code == 200, added.text

    preview = await client.post(f"{PREFIX}/groups/{club}/ladder/preview", headers=owner, json={"rung_order": order})
    assert preview.status_code == 200, preview.text
    assert preview.json()["run"] is None
    assert preview.json()["problems"]["ladder"].startswith("Own Club itself holds 2 customers (")
    refused = await client.post(f"{PREFIX}/groups/{club}/ladder", headers=owner, json={"rung_order": order})
    assert refused.status_code == 422
    assert refused.json() == {"errors": preview.json()["problems"]}
    assert not (await client.get(f"{PREFIX}/groups/{club}/ladder", headers=owner)).json()["is_ladder"]

    moved = await client.post(
        f"{PREFIX}/groups/{club}/members/remove", headers=owner, json={"customer_ids": [1, 2], "mode": "remove"}
    )
    assert moved.status_code == 200, moved.text
    made = await client.post(f"{PREFIX}/groups/{club}/ladder", headers=owner, json={"rung_order": order})
    assert made.status_code == 201, made.text

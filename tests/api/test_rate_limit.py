"""A token that sends too many requests is told to wait, without slowing other tokens down."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api import PREFIX
from tests.api.conftest import Shop, Tokens, bearer, start_app

LIMIT = 5


@pytest.fixture(scope="module")
def api_url(api_shop: Shop, app_data: Path) -> Iterator[str]:
    """An app that lets each token make LIMIT requests a minute."""
    with start_app(api_shop, app_data, API_RATE_LIMIT=str(LIMIT)) as url:
        yield url


async def test_requests_beyond_the_limit_get_429_with_retry_after(client: httpx.AsyncClient, tokens: Tokens):
    answers = [(await client.get(f"{PREFIX}/groups", headers=bearer(tokens.viewer))).status_code for _ in range(LIMIT)]
    assert answers == [200] * LIMIT
    refused = await client.get(f"{PREFIX}/customers", headers=bearer(tokens.viewer))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert f"{LIMIT} per minute" in refused.json()["error"]

    assert (await client.get(f"{PREFIX}/groups", headers=bearer(tokens.manager))).status_code == 200
    assert (await client.get(f"{PREFIX}/groups")).status_code == 401  # no token: refused, not counted


async def test_an_address_sending_tokens_that_are_not_valid_waits_and_other_clients_do_not(
    api_url: str, client: httpx.AsyncClient, tokens: Tokens
):
    guesser = httpx.AsyncClient(  # another machine: loopback answers from any 127.x address
        base_url=api_url, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"), timeout=30
    )
    async with guesser:
        for guess in range(LIMIT):
            wrong = await guesser.get(f"{PREFIX}/groups", headers=bearer(f"cg_guess{guess:039d}"))
            assert wrong.status_code == 401
        refused = await guesser.get(f"{PREFIX}/groups", headers=bearer("cg_" + "y" * 43))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert set(refused.json()) == {"error"} and "not valid" in refused.json()["error"]
        # The address waits before any more of its tokens are looked up, a valid one too.
        assert (await guesser.get(f"{PREFIX}/groups", headers=bearer(tokens.owner))).status_code == 429

    assert (await client.get(f"{PREFIX}/groups", headers=bearer(tokens.owner))).status_code == 200

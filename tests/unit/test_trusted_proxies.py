"""Whose word the app takes for a client's address: a reverse proxy's X-Forwarded-For only when
TRUSTED_PROXIES names that proxy. Checked with the uvicorn server configuration `serve()` builds
from the settings (app.py passes `proxy_options` to ui.run, which hands them to uvicorn.Config)."""

import pytest
import uvicorn
from pydantic import ValidationError

from services.settings import load_settings


async def client_address_seen(options: dict, *, connected_from: str, forwarded_for: str) -> str:
    """The address an app served by uvicorn with `options` sees for one request."""
    seen = {}

    async def app(scope, receive, send):
        seen["client"] = scope["client"][0]

    config = uvicorn.Config(app, **options)
    config.load()
    scope = {
        "type": "http",
        "client": (connected_from, 50000),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
        "scheme": "http",
    }
    await config.loaded_app(scope, None, None)
    return seen["client"]


@pytest.fixture
def environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path))
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    return monkeypatch


async def test_by_default_no_client_names_its_own_address(environment):
    # uvicorn on its own believes anyone connecting from this machine: a script on the server (or
    # a proxy that passes the header on unchecked) could pick the address the sign-in limits count.
    assert await client_address_seen({}, connected_from="127.0.0.1", forwarded_for="203.0.113.9") == "203.0.113.9"

    options = load_settings().proxy_options
    assert options == {"proxy_headers": False, "forwarded_allow_ips": ""}
    assert await client_address_seen(options, connected_from="127.0.0.1", forwarded_for="203.0.113.9") == ("127.0.0.1")
    # Even uvicorn's own environment variable does not bring the header back.
    environment.setenv("FORWARDED_ALLOW_IPS", "*")
    assert await client_address_seen(options, connected_from="127.0.0.1", forwarded_for="203.0.113.9") == ("127.0.0.1")


async def test_a_named_proxy_passes_the_client_address_on_and_nobody_else_does(environment):
    environment.setenv("TRUSTED_PROXIES", " 10.0.0.5, 10.0.1.7/24,::1 ")
    options = load_settings().proxy_options
    assert options == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5,10.0.1.0/24,::1"}

    # nginx on 10.0.0.5 (or anywhere in 10.0.1.0/24) says who connected to it ...
    assert await client_address_seen(options, connected_from="10.0.0.5", forwarded_for="198.51.100.7") == (
        "198.51.100.7"
    )
    assert await client_address_seen(options, connected_from="10.0.1.200", forwarded_for="198.51.100.7") == (
        "198.51.100.7"
    )
    # ... a client on this machine, or anywhere else, does not.
    for other in ("127.0.0.1", "10.0.0.6", "198.51.100.7"):
        assert await client_address_seen(options, connected_from=other, forwarded_for="203.0.113.9") == other


@pytest.mark.parametrize("value", ["*", "nginx", "10.0.0.300", "10.0.0.0/33"])
def test_a_proxy_that_is_not_an_address_stops_the_start(environment, value):
    environment.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="is not an IP address or network"):
        load_settings()

"""The app's settings, read once from the environment."""

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator may set; each field is an environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    data_dir: Path = Field(default=Path("data"), validation_alias="CUSTOMER_GROUPS_DATA")
    database_url: str = ""
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    storage_secret: str = ""
    demo_customers: int = Field(default=1200, ge=0, description="Customers in the demo shop seeded on first start")
    demo_seed: int = 2024
    secure_cookies: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (set when served over HTTPS)"
    )
    rule_refresh_minutes: int = Field(
        default=15,
        ge=0,
        description="Minutes between re-runs of all group rules (time-based conditions drift); 0: never",
    )

    api_rate_limit: int = Field(
        default=120,
        ge=1,
        description="Requests a REST API token may make per minute, and tokens that are not valid an address may "
        "send per minute; more are refused with 429",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses or networks (comma-separated) of the reverse proxies in front of the app, whose "
        "X-Forwarded-For and X-Forwarded-Proto headers are believed; none by default",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        # uvicorn would silently take a mistyped entry (or a network with host bits, 10.0.0.5/24) for
        # a name that never matches; "*" would let every client name its own address.
        entries = []
        for entry in (entry.strip() for entry in value.split(",")):
            if not entry:
                continue
            try:
                parsed = ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (like 10.0.0.5 or 10.0.0.0/24)") from None
            entries.append(str(parsed))
        return ",".join(entries)

    @property
    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed from the trusted proxies only. Left
        unset, uvicorn would believe them from any client on 127.0.0.1 (or FORWARDED_ALLOW_IPS)."""
        return {"proxy_headers": bool(self.trusted_proxies), "forwarded_allow_ips": self.trusted_proxies}

    @property
    def address(self) -> str:
        """Where to open the app in a browser: a server on every interface is reached on this machine by localhost."""
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite://{(self.data_dir / 'customer-groups.sqlite3').as_posix()}"

    @cached_property
    def effective_storage_secret(self) -> str:
        """The configured secret, else one generated on first start and kept in the data folder."""
        if self.storage_secret:
            return self.storage_secret
        path = self.data_dir / "storage-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings() -> Settings:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings

"""The app's settings, read once from the environment."""

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
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
        default=120, ge=1, description="Requests a REST API token may make per minute; more are refused with 429"
    )

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

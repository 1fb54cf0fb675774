"""Opening the database: apply migrations, then connect the ORM."""

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate

from models import MODEL_MODULES
from services.settings import Settings
from services.storage import sqlite_writers


def _connection_url(url: str) -> str:
    # WAL lets readers go on while a write commits; FULL sync keeps a committed change through a
    # power cut; the busy timeout makes a second process wait instead of failing at once.
    if url.startswith("sqlite://") and "?" not in url:
        return f"{url}?journal_mode=WAL&synchronous=FULL&busy_timeout=10000"
    return url


# Heavy work (rule previews, setting a large group's members) runs on a connection of its own.
# Tortoise serialises each connection behind one lock; on a separate connection a long preview or
# a write of 100,000 memberships leaves page reads on "default" free (SQLite WAL lets readers on
# while one connection writes).
BACKGROUND = "background"
# A second connection for long reads, so the parts of one preview can run side by side.
READER = "reader"


# Named, not imported: it needs asyncpg, which only a PostgreSQL install has (the binary lists it).
POSTGRES_ENGINE = "services.storage.postgres_folding"


def _connection(url: str, *, read_only: bool = False) -> dict[str, Any]:
    """A connection's settings. SQLite connections are services.storage.sqlite_writers' own, whose writers
    wait their turn for the write lock instead of failing with "database is locked"; PostgreSQL ones
    fold text as SQLite does (services.storage.postgres_folding)."""
    settings = expand_db_url(url)
    if not url.startswith("sqlite://"):
        return {"engine": POSTGRES_ENGINE, "credentials": settings["credentials"]}
    return {
        "engine": sqlite_writers.__name__,  # imported, not only named: the one-file binary must carry it
        "credentials": {**settings["credentials"], **({"read_only": True} if read_only else {})},
    }


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = _connection_url(database_url)
    return {
        "connections": {
            "default": _connection(url),
            BACKGROUND: _connection(url),
            READER: _connection(url, read_only=True),
        },
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _keep_private(url: str) -> None:
    """The shop's customers are in the SQLite file: readable by its owner only (the storage secret
    beside it is too). SQLite gives its -wal and -shm files the database file's permissions; a file
    an older version made readable by all is tightened."""
    if not url.startswith("sqlite://"):
        return
    path = Path(expand_db_url(url)["credentials"]["file_path"])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


async def open_database(*, database_url: str) -> None:
    """Bring the schema up to date and connect. Safe to call on every start."""
    _keep_private(database_url)
    config = tortoise_config(database_url)
    await migrate(config=config)
    await Tortoise.close_connections()
    # The global fallback lets page handlers, which run outside the task that opened the
    # database, reach the connection.
    await Tortoise.init(config=config, _enable_global_fallback=True)


def background_connection() -> BaseDBAsyncClient:
    """The connection for long reads and large writes; pass it as `using_db` / to in_transaction."""
    return connections.get(BACKGROUND)


def reader_connection() -> BaseDBAsyncClient:
    """A connection for long reads that run beside work on the background connection."""
    return connections.get(READER)


async def close_database() -> None:
    await Tortoise.close_connections()


# For the `tortoise makemigrations` command (see [tool.tortoise] in pyproject.toml).
TORTOISE_ORM = tortoise_config(Settings().effective_database_url)

"""Wiring only: settings -> database -> pages -> server, and the `customer-groups` command."""

import argparse
import asyncio
import contextlib
from contextlib import asynccontextmanager

from nicegui import app, ui

from services.database import close_database, open_database
from services.demo import is_empty, seed_demo_shop, seed_if_empty
from services.rule_runs import refresh_rules_periodically
from services.settings import Settings, load_settings
from ui.pages import register_pages

settings = load_settings()


def _with_database(lifespan):
    """Wrap the app's lifespan so the database is migrated (and the demo shop seeded on first
    start) before the first request, and closed last. NiceGUI's on_startup would not wait.
    Meanwhile the rule refresh runs in the background; it is cancelled before the database closes."""

    @asynccontextmanager
    async def wrapped(server):
        await open_database(database_url=settings.effective_database_url)
        if settings.demo_customers and await seed_if_empty(customers=settings.demo_customers, seed=settings.demo_seed):
            print(f"First start: seeded the demo shop with {settings.demo_customers:,} customers.")
        rules = asyncio.create_task(refresh_rules_periodically(every_minutes=settings.rule_refresh_minutes))
        try:
            async with lifespan(server) as state:
                yield state
        finally:
            rules.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rules
            await close_database()

    return wrapped


app.router.lifespan_context = _with_database(app.router.lifespan_context)
register_pages()


def serve(run_settings: Settings) -> None:
    print(f"Customer Groups: http://localhost:{run_settings.port} (database {run_settings.effective_database_url})")
    ui.run(
        host=run_settings.host,
        port=run_settings.port,
        title="Customer Groups",
        storage_secret=run_settings.effective_storage_secret,
        reload=False,
        show=False,
        favicon="👥",
    )


async def _build_demo(args: argparse.Namespace) -> None:
    await open_database(database_url=args.database_url)
    try:
        if not await is_empty():
            raise SystemExit(f"{args.database_url} already holds a shop; point --database-url at an empty database.")
        await seed_demo_shop(customers=args.customers, orders=args.orders, seed=args.seed, progress=print)
    finally:
        await close_database()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="customer-groups", description="Customer segmentation for your shop.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the web app (the default)")
    demo = commands.add_parser("demo", help="build a demo shop in an empty database")
    demo.add_argument("--customers", type=int, default=1200)
    demo.add_argument("--orders", type=int, default=None, help="default: 12 per customer")
    demo.add_argument("--seed", type=int, default=2024)
    demo.add_argument("--database-url", default=settings.effective_database_url)
    args = parser.parse_args(argv)
    if args.command == "demo":
        asyncio.run(_build_demo(args))
        return
    serve(settings)


if __name__ in {"__main__", "__mp_main__"}:
    serve(settings)

"""Wiring only: settings -> database -> pages -> server, and the `customer-groups` command."""

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from starlette.types import ASGIApp, Receive, Scope, Send

from api import PREFIX as API_PREFIX
from api import register_api
from services.collector import collect_on_schedule
from services.demo.seeding import is_empty, seed_demo_shop, seed_if_empty
from services.errors import FormError, PermissionDeniedError
from services.rules.runs import refresh_rules_periodically
from services.settings import Settings, load_settings
from services.staff.accounts import create_first_owner, get_actor, has_staff
from services.storage.backup import backup, restore
from services.storage.daily_backups import BackupPlace, run_daily_backups
from services.storage.database import close_database, open_database
from services.webhooks.sender import Sender
from ui.pages import register_pages
from ui.staff.auth_pages import PUBLIC_PAGES
from ui.staff.session import sign_in, sign_out, signed_in
from ui.stylesheet import add_stylesheet

settings = load_settings()


def _with_database(lifespan):
    """Wrap the app's lifespan so the database is migrated (and the demo shop seeded on first
    start) before the first request, and closed last. NiceGUI's on_startup would not wait.
    Meanwhile the rule refresh, the daily backups, the webhook sender and the collector's schedule
    (services/collector.py) run in the background; they are cancelled before the database closes."""

    @asynccontextmanager
    async def wrapped(server):
        await open_database(database_url=settings.effective_database_url)
        if settings.demo_customers and await seed_if_empty(customers=settings.demo_customers, seed=settings.demo_seed):
            print(f"First start: seeded the demo shop with {settings.demo_customers:,} customers.")
        # Said once the shop is ready to serve, so whoever started it can open the address at once.
        print(f"Customer Groups: {settings.address} (database {settings.effective_database_url})", flush=True)
        rules = asyncio.create_task(refresh_rules_periodically(every_minutes=settings.rule_refresh_minutes))
        backups = asyncio.create_task(run_daily_backups(place=BackupPlace.from_settings(settings)))
        sender = Sender()
        webhooks = asyncio.create_task(sender.run())
        collector = asyncio.create_task(collect_on_schedule())
        try:
            async with lifespan(server) as state:
                yield state
        finally:
            for task in (rules, backups, webhooks, collector):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await sender.close()
            await close_database()

    return wrapped


class SignedInOnly:
    """Every page but sign-in and setup needs a signed-in, still active staff member. The account is
    read again on each page load, so a deactivated or demoted person loses access at their next step.
    NiceGUI's own assets and websocket are left alone; the REST API (under /api/v1 only) guards its
    routes itself. tests/ui/test_access.py checks every route of the app against this.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware runs each request in a task group of its
    own, whose cancel scopes and exceptions are garbage in cycles left for the cycle collector."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in PUBLIC_PAGES
            or path.startswith(("/_nicegui", f"{API_PREFIX}/"))
            or path == "/favicon.ico"
        ):
            await self.app(scope, receive, send)
            return
        actor = signed_in()
        fresh = await get_actor(user_id=actor.id) if actor else None
        if fresh is None:
            sign_out()
            target = "/login" if await has_staff() else "/setup"
            answer = RedirectResponse(f"{target}?next={quote(path)}" if target == "/login" else target)
            await answer(scope, receive, send)
            return
        if fresh != actor:
            sign_in(fresh)
        await self.app(scope, receive, send)


def _refused(error: Exception) -> None:
    # A refused action reached from a page (the services check every permission): say which one.
    if isinstance(error, PermissionDeniedError):
        with contextlib.suppress(RuntimeError):  # no page to tell (e.g. a background task)
            ui.notify(str(error), type="negative", multi_line=True)


app.router.lifespan_context = _with_database(app.router.lifespan_context)
app.add_middleware(SignedInOnly)
app.on_exception(_refused)
register_pages(backups=BackupPlace.from_settings(settings))
register_api(app, rate_limit=settings.api_rate_limit)  # once, even when the page tests re-run this file


def serve(run_settings: Settings) -> None:
    add_stylesheet()
    ui.run(
        host=run_settings.host,
        port=run_settings.port,
        title="Customer Groups",
        language="en-US",  # the <html lang> screen readers pronounce the pages by, and Quasar's own words
        storage_secret=run_settings.effective_storage_secret,
        # The session cookie never rides along on another site's requests.
        session_middleware_kwargs={"same_site": "strict", "https_only": run_settings.secure_cookies},
        # The client's address (the sign-in limits count by it) is the connection's, unless it comes
        # from a proxy named in TRUSTED_PROXIES, whose X-Forwarded-For names it.
        **run_settings.proxy_options,
        reload=False,
        show=False,
        favicon="👥",
        tailwind=False,  # ui/stylesheet.py serves the classes, built ahead of time
        # Level 5, not Starlette's 9: a page's 50-70 KB compress 2% larger in half the time (about
        # 1 ms of each page's server time, measured by bench.load's pages).
        gzip_middleware_factory=lambda inner: GZipMiddleware(inner, minimum_size=500, compresslevel=5),
    )


async def _build_demo(args: argparse.Namespace) -> None:
    await open_database(database_url=args.database_url)
    try:
        if not await is_empty():
            raise SystemExit(f"{args.database_url} already holds a shop; point --database-url at an empty database.")
        await seed_demo_shop(customers=args.customers, orders=args.orders, seed=args.seed, progress=print)
    finally:
        await close_database()


async def _create_user(args: argparse.Namespace) -> None:
    password = os.environ.get("CUSTOMER_GROUPS_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise SystemExit("No password: set CUSTOMER_GROUPS_PASSWORD, or run this in a terminal to type one.")
        password = getpass.getpass("Password (at least 10 characters): ")
    await open_database(database_url=args.database_url)
    try:
        owner = await create_first_owner(email=args.email, name=args.name, password=password)
    except FormError as error:
        raise SystemExit("; ".join(error.errors.values())) from None
    finally:
        await close_database()
    print(f"Created the owner account for {owner.name} <{owner.email}>.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="customer-groups", description="Customer segmentation for your shop.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the web app (the default)")
    demo = commands.add_parser("demo", help="build a demo shop in an empty database")
    demo.add_argument("--customers", type=int, default=1200)
    demo.add_argument("--orders", type=int, default=None, help="default: 12 per customer")
    demo.add_argument("--seed", type=int, default=2024)
    demo.add_argument("--database-url", default=settings.effective_database_url)
    user = commands.add_parser("create-user", help="create the shop's owner account (first start)")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--database-url", default=settings.effective_database_url)
    for name, help_text in (
        ("backup", "copy the database to FILE, online"),
        ("restore", "replace the database with FILE"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("file", type=Path)
        command.add_argument("--database-url", default=settings.effective_database_url)
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        try:
            if args.command == "backup":
                result = backup(database_url=args.database_url, target=args.file)
                print(f"Backed up to {result.path} ({result.size_bytes:,} bytes).")
            else:
                result = restore(database_url=args.database_url, source=args.file)
                print(f"Restored {args.file} into {result.path}.")
        except FormError as error:
            raise SystemExit("; ".join(error.errors.values())) from None
        return
    if args.command == "create-user":
        asyncio.run(_create_user(args))
        return
    if args.command == "demo":
        asyncio.run(_build_demo(args))
        return
    serve(settings)


if __name__ in {"__main__", "__mp_main__"}:
    serve(settings)

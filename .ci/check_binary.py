"""Check the one-file binary that `make binary` builds: does it run a shop without this repository?

    .venv/bin/python .ci/check_binary.py dist/customer-groups [--screenshot overview.png]

1. The subcommands, in an empty working folder without CUSTOMER_GROUPS_DATA: `create-user` migrates
   a fresh `./data` database and creates the owner, `backup FILE` copies it.
2. The web app, in another empty working folder with CUSTOMER_GROUPS_DATA pointing elsewhere, on a
   free loopback port with a small demo shop: the printed address answers, the first visit goes to
   /setup, the owner account is created there, and the groups overview shows the demo groups with
   every style sheet, script and icon font served from the bundle, and no JavaScript error.
3. The data folder holds the database with every migration applied and the sessions; the working
   folder stays empty.

Prints the binary's size, the seconds to the listening line and to the first overview. Exits
non-zero with a message on the first failure; the binary is always stopped.
"""

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from services.demo.data import GROUPS  # noqa: E402  (the project root must be on the path first)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 120.0  # seconds for unpacking, migrations, seeding and the server to come up
COMMAND_TIMEOUT = 120.0  # seconds for one subcommand
PAGE_TIMEOUT = 30_000  # ms for one page step
DEMO_CUSTOMERS = 200
LISTENING = re.compile(r"Customer Groups: (http://\S+) ")
OWNER = {"name": "Olivia Owner", "email": "owner@example.com", "password": "correct horse battery"}


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**settings: str) -> dict[str, str]:
    """The caller's environment without anything that would point the app elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NICEGUI_", "CUSTOMER_GROUPS_", "PYTEST_"))
        and key not in {"DATABASE_URL", "HOST", "PORT", "STORAGE_SECRET", "DEMO_CUSTOMERS"}
    }
    env.update(settings)
    return env


def stop(process_group: int) -> None:
    """SIGTERM to the binary's whole process group (the one-file loader and the app it unpacked),
    SIGKILL if it is still there after ten seconds."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process_group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process_group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def run_command(binary: Path, *args: str, cwd: Path, env: dict[str, str]) -> str:
    process = subprocess.Popen(
        [str(binary), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`customer-groups {' '.join(args)}` did not finish within {COMMAND_TIMEOUT:.0f} s") from None
    finally:
        stop(process.pid)
    if process.returncode != 0:
        raise CheckFailed(f"`customer-groups {' '.join(args)}` exited with {process.returncode}:\n{output}")
    return output


def check_commands(binary: Path, workdir: Path) -> None:
    """create-user and backup through main(), with the data in ./data of the working folder."""
    env = environment(CUSTOMER_GROUPS_PASSWORD=OWNER["password"])
    run_command(binary, "create-user", "--email", OWNER["email"], "--name", OWNER["name"], cwd=workdir, env=env)
    database = workdir / "data" / "customer-groups.sqlite3"
    if not database.is_file():
        raise CheckFailed(f"create-user did not create {database} (the data folder is ./data by default)")
    run_command(binary, "backup", "copy.sqlite3", cwd=workdir, env=env)
    with contextlib.closing(sqlite3.connect(workdir / "copy.sqlite3")) as copy:
        owners = copy.execute("SELECT email FROM staff_user").fetchall()
    if owners != [(OWNER["email"],)]:
        raise CheckFailed(f"the backup should hold the owner account, it holds {owners}")
    print("Subcommands: create-user and backup work, data in ./data")


async def read_output(stream: asyncio.StreamReader, lines: list[str], listening: asyncio.Future) -> None:
    """Keep the binary's output (for error messages; the pipe must never fill up) and resolve
    `listening` with the address it prints."""
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        lines.append(text)
        if not listening.done() and (match := LISTENING.search(text)):
            listening.set_result(match.group(1))
    if not listening.done():
        listening.set_exception(CheckFailed("the binary exited before it printed where it listens"))


async def wait_until_answering(url: str, deadline: float) -> None:
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    while True:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, int(port))
            writer.close()
            return
        if time.monotonic() > deadline:
            raise CheckFailed(f"nothing answers on {url}")
        await asyncio.sleep(0.1)


async def check_overview(page: Page, url: str, screenshot: Path | None) -> None:
    bad_responses: list[str] = []
    page.on("response", lambda r: bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: bad_responses.append(f"failed {r.url} ({r.failure})"))

    await page.goto(url)
    await page.wait_for_url("**/setup")  # the first visit creates the owner account
    await page.get_by_label("Your name").fill(OWNER["name"])
    await page.get_by_label("Email").fill(OWNER["email"])
    await page.get_by_label("Password", exact=True).fill(OWNER["password"])
    await page.get_by_label("Repeat the password").fill(OWNER["password"])
    await page.get_by_role("button", name="Create owner account").click()
    await page.wait_for_url(re.compile(r"^[^?]*/groups$"))
    for group in GROUPS:
        await expect(page.get_by_role("link", name=group.name, exact=True)).to_be_visible()
    await expect(page.get_by_text(f"Total Groups: {len(GROUPS)}")).to_be_visible()

    icons_loaded = await page.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts].some(f => f.family.replaceAll('"', '') === 'Material Icons'
                                                 && f.status === 'loaded');
        }"""
    )
    if not icons_loaded:
        raise CheckFailed("the Material Icons font did not load")
    # The pages' own stylesheet (ui/styles/tailwind.css) travels inside the binary: the header is white.
    header = await page.evaluate("getComputedStyle(document.querySelector('.q-header')).backgroundColor")
    if header != "rgb(255, 255, 255)":
        raise CheckFailed(f"the pages' stylesheet did not apply: the header's background is {header}")
    if bad_responses:
        raise CheckFailed("requests the binary did not serve:\n" + "\n".join(bad_responses))
    if screenshot:
        await page.screenshot(path=screenshot, full_page=True, animations="disabled")
        print(f"Screenshot: {screenshot}")


def check_data(data_dir: Path, workdir: Path) -> None:
    database = data_dir / "customer-groups.sqlite3"
    if not database.is_file():
        raise CheckFailed(f"no database in the data folder {data_dir}: {sorted(p.name for p in data_dir.iterdir())}")
    with contextlib.closing(sqlite3.connect(database)) as db:
        applied = {name for (name,) in db.execute("SELECT name FROM tortoise_migrations")}
    expected = {p.stem for p in (PROJECT_ROOT / "models" / "migrations").glob("[0-9]*.py")}
    if missing := sorted(expected - applied):
        raise CheckFailed(f"migrations not applied by the binary: {missing}")
    if not (data_dir / "sessions").is_dir():
        raise CheckFailed(f"no browser sessions kept in the data folder {data_dir}")
    if stray := sorted(p.name for p in workdir.iterdir()):
        raise CheckFailed(f"the binary wrote into its working folder, not the data folder: {stray}")
    print(f"Data folder: database with {len(applied)} migrations applied, sessions; working folder untouched")


async def check_web_app(binary: Path, workdir: Path, data_dir: Path, screenshot: Path | None) -> None:
    env = environment(
        CUSTOMER_GROUPS_DATA=str(data_dir), HOST="127.0.0.1", PORT=str(free_port()), DEMO_CUSTOMERS=str(DEMO_CUSTOMERS)
    )
    started = time.monotonic()
    deadline = started + START_TIMEOUT
    process = await asyncio.create_subprocess_exec(
        str(binary),
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    output: list[str] = []
    listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(read_output(process.stdout, output, listening))
    try:
        try:
            url = await asyncio.wait_for(asyncio.shield(listening), timeout=START_TIMEOUT)
            printed = time.monotonic() - started
            await wait_until_answering(url, deadline)
            answering = time.monotonic() - started
            print(f"Start: printed {url} after {printed:.1f} s, answering after {answering:.1f} s")

            async with async_playwright() as driver:
                browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 1280, "height": 900})
                    page.set_default_timeout(PAGE_TIMEOUT)
                    expect.set_options(timeout=PAGE_TIMEOUT)
                    script_errors: list[str] = []
                    page.on("pageerror", lambda error: script_errors.append(str(error)))
                    await check_overview(page, url, screenshot)
                    overview = time.monotonic() - started
                    if script_errors:
                        raise CheckFailed("JavaScript errors in the browser:\n" + "\n".join(script_errors))
                finally:
                    await browser.close()
            print(f"First overview with the {len(GROUPS)} demo groups after {overview:.1f} s (from start)")
        except Exception as error:  # Playwright's timeouts and failed expectations too
            reason = str(error)
            if isinstance(error, TimeoutError) and not listening.done():
                reason = f"no listening line within {START_TIMEOUT:.0f} s"
            await asyncio.sleep(0.5)  # the binary's last words
            raise CheckFailed(f"{reason}\nThe binary's output:\n" + "\n".join(output[-60:])) from error
    finally:
        stop(process.pid)
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=5)
        reader.cancel()
    check_data(data_dir, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", type=Path)
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the overview here")
    args = parser.parse_args()
    binary = args.binary.resolve()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        sys.exit(f"FAILED: {args.binary} is not an executable file; build it with `make binary`")
    if not Path(CHROMIUM).exists():
        sys.exit(f"FAILED: no Chromium at {CHROMIUM} (apt-get install chromium)")
    print(f"Binary: {binary} ({binary.stat().st_size / 1e6:.1f} MB)")
    screenshot = args.screenshot.resolve() if args.screenshot else None
    try:
        with tempfile.TemporaryDirectory(prefix="customer-groups-binary-") as temp:
            root = Path(temp)
            for folder in ("commands", "work", "data"):
                (root / folder).mkdir()
            check_commands(binary, root / "commands")
            asyncio.run(check_web_app(binary, root / "work", root / "data", screenshot))
    except CheckFailed as error:
        sys.exit(f"FAILED: {error}")
    print("OK: the binary serves the shop")


if __name__ == "__main__":
    main()

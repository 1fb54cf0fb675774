"""Two app instances on one PostgreSQL database, behind nginx with sticky sessions: a change made
through one instance is seen through the other. `python -m bench.two_instances`; prints PASS or FAIL.

What it sets up, all on 127.0.0.1 and all stopped at the end (at the latest after TIME_LIMIT s):

1. A throwaway PostgreSQL: the script runs itself under `.ci/postgres --run ...` unless
   CUSTOMER_GROUPS_TEST_POSTGRES already names a server; one new database on it for the shop,
   migrated and seeded (a small demo shop, the owner, an API token).
2. Two instances of the app (`python app.py`), each on its own port with its own data folder
   (CUSTOMER_GROUPS_DATA), both with the same DATABASE_URL and the same STORAGE_SECRET.
3. nginx (Debian's; installed with apt-get when missing) in front of both, configured as the
   README shows: a cookie of nginx's own ("instance"), given once to each browser, and `hash
   $instance consistent` send every request of one browser to the same instance, as NiceGUI needs
   (a page and its websocket live in one process, and each instance keeps app.storage.user, the
   sign-in, in its own data folder; the session cookie itself changes at sign-in, so it cannot be
   the key). WebSocket upgrades and the browser's address are passed on (both instances trust
   nginx's address, TRUSTED_PROXIES). Each answer says which instance served it (X-Upstream).

Then it checks that a new browser is given an instance cookie, that an instance cookie always
reaches the same instance, and that a group created
through the proxy on instance A is listed through instance B, and a group deleted through B is
gone through A (the REST API, with the owner's token). Nothing here is timed: it shows the setup
works, and is the recipe for running several instances (see the README).
"""

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests import postgres
from tests.app_process import PROJECT_ROOT, free_port, running_app

TIME_LIMIT = 240  # seconds for the whole run, PostgreSQL and nginx included
START_TIMEOUT = 60.0
API = "/api/v1"
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    map $cookie_instance $instance {{ "" $request_id; default $cookie_instance; }}
    map $cookie_instance $new_instance_cookie {{
        "" "instance=$request_id; Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax";
        default "";
    }}
    upstream customer_groups {{
        hash $instance consistent;
        server 127.0.0.1:{port_a};
        server 127.0.0.1:{port_b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://customer_groups;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 3600s;
            add_header Set-Cookie $new_instance_cookie always;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def find_nginx() -> str:
    """nginx's path; Debian's package is installed first when it is missing (as root, with apt-get)."""
    if found := shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx"):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("FAIL: nginx is not installed (apt-get install nginx)")
    print("Installing Debian's nginx ...", flush=True)
    # The package would start nginx as a service on port 80: a policy-rc.d that forbids starting
    # services keeps it from doing so while it installs.
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if ours:
            policy.unlink()
    return shutil.which("nginx") or "/usr/sbin/nginx"


async def prepare_shop(database_url: str) -> str:
    """Migrate and seed the shop; the owner's API token."""
    from services.demo.seeding import seed_demo_shop
    from services.staff.accounts import create_first_owner
    from services.staff.tokens import create_token
    from services.storage.database import close_database, open_database

    await open_database(database_url=database_url)
    try:
        await seed_demo_shop(customers=50, seed=7)
        owner = await create_first_owner(email="owner@example.com", name="Olivia Owner", password="a long password")
        _, secret = await create_token(actor=owner, name="two instances")
        return secret
    finally:
        await close_database()


@contextmanager
def running_nginx(nginx: str, port_a: int, port_b: int, workdir: Path):
    """nginx on a free loopback port in front of both instances; yields its base URL."""
    port = free_port()
    workdir.mkdir()
    workdir.chmod(0o777)  # the worker process (nobody, when started as root) writes its temp files here
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port, port_a=port_a, port_b=port_b))
    process = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(conf)], stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not _answers(f"http://127.0.0.1:{port}{API}/openapi.json"):
            if process.poll() is not None or time.monotonic() > deadline:
                error_log = workdir / "error.log"
                raise SystemExit(f"FAIL: nginx did not start: {error_log.read_text() if error_log.exists() else ''}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def request(url: str, *, session: str, token: str, method: str = "GET", body: dict | None = None):
    """(status, JSON answer, the instance that served it) for one request with this instance cookie."""
    headers = {"Cookie": f"instance={session}", "Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None, response.headers.get("X-Upstream", "")
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None, error.headers.get("X-Upstream", "")


def check(proxy: str, token: str, instances: dict[str, str]) -> list[str]:
    """The checks; a list of what failed (empty: PASS)."""
    failures: list[str] = []
    with urllib.request.urlopen(f"{proxy}/login", timeout=30) as response:
        given = [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("instance=")]
    print(f"A new browser is given: {given[0].split(';')[0] if given else 'no instance cookie'}")
    if not given:
        failures.append("a new browser was not given an instance cookie")
    # Instance cookies that nginx sends to each instance, and that they always go there.
    cookies: dict[str, str] = {}
    for number in range(200):
        session = f"bench-session-{number}"
        _, _, upstream = request(f"{proxy}{API}/groups?per_page=1", session=session, token=token)
        cookies.setdefault(upstream, session)
        if len(cookies) == 2:
            break
    names = {address: name for name, address in instances.items()}
    print(f"Instance cookies by instance: { {names.get(u, u): s for u, s in cookies.items()} }")
    if set(cookies) != set(instances.values()):
        return [f"the proxy did not spread sessions over both instances: {sorted(cookies)}"]
    for upstream, session in cookies.items():
        seen = {request(f"{proxy}{API}/groups?per_page=1", session=session, token=token)[2] for _ in range(5)}
        if seen != {upstream}:
            failures.append(f"session {session} was not sticky: served by {sorted(seen)}")
    on_a, on_b = cookies[instances["A"]], cookies[instances["B"]]

    code = f"TWO-{secrets.token_hex(3).upper()}"
    status, group, served = request(
        f"{proxy}{API}/groups", session=on_a, token=token, method="POST", body={"name": f"Seen {code}", "code": code}
    )
    print(f"Created group {code} through instance {names.get(served, served)}: HTTP {status}")
    if status != 201 or served != instances["A"]:
        return [*failures, f"creating the group through A answered {status} from {served}: {group}"]
    status, found, served = request(f"{proxy}{API}/groups?search={code}", session=on_b, token=token)
    listed = [g["code"] for g in (found or {}).get("items", [])]
    print(f"Instance {names.get(served, served)} lists: {listed}")
    if served != instances["B"] or code not in listed:
        failures.append(f"instance B did not list the group made through A (served by {served}: {listed})")

    status, _, served = request(f"{proxy}{API}/groups/{group['id']}", session=on_b, token=token, method="DELETE")
    print(f"Deleted it through instance {names.get(served, served)}: HTTP {status}")
    status, _, served = request(f"{proxy}{API}/groups/{group['id']}", session=on_a, token=token)
    print(f"Instance {names.get(served, served)} then answers: HTTP {status}")
    if served != instances["A"] or status != 404:
        failures.append(f"instance A still had the group deleted through B (HTTP {status} from {served})")
    return failures


def main() -> int:
    if not postgres.on_postgres():
        # A throwaway PostgreSQL for this run: .ci/postgres starts it, runs us again, stops it.
        script = PROJECT_ROOT / ".ci" / "postgres"
        os.execv(str(script), [str(script), "--run", sys.executable, "-m", "bench.two_instances"])

    def out_of_time(*_) -> None:
        raise TimeoutError(f"gave up after {TIME_LIMIT} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TIME_LIMIT)
    nginx = find_nginx()
    database_url = postgres.create_database()
    try:
        with tempfile.TemporaryDirectory(prefix="two-instances-") as scratch, ExitStack() as stack:
            token = asyncio.run(prepare_shop(database_url))
            settings = {
                "DATABASE_URL": database_url,
                "STORAGE_SECRET": secrets.token_urlsafe(32),  # the same for both: a session cookie is valid on each
                "DEMO_CUSTOMERS": "0",
                "RULE_REFRESH_MINUTES": "0",
                "TRUSTED_PROXIES": "127.0.0.1",  # nginx: the browser's address comes from it
            }
            urls = {}
            for name in ("A", "B"):
                data_dir = Path(scratch) / f"instance-{name}"
                data_dir.mkdir()
                urls[name] = stack.enter_context(
                    running_app(data_dir=data_dir, settings=settings, start_timeout=START_TIMEOUT)
                )
            instances = {name: url.removeprefix("http://") for name, url in urls.items()}
            print(f"Instances: {instances}, database {postgres.database_name(database_url)}")
            ports = [int(address.rsplit(":", 1)[1]) for address in instances.values()]
            proxy = stack.enter_context(running_nginx(nginx, *ports, Path(scratch) / "nginx"))
            print(f"nginx: {proxy}")
            failures = check(proxy, token, instances)
    except (TimeoutError, OSError, subprocess.SubprocessError, RuntimeError) as error:
        failures = [f"{type(error).__name__}: {error}"]
    finally:
        signal.alarm(0)
        postgres.drop_database(database_url)
    for failure in failures:
        print(f"  - {failure}")
    print("FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

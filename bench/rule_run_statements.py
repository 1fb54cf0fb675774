"""Where a rule run moving ~500,000 members spends its time: section 5 of bench/rules.py (a new
group of the top spenders, then its rule turned to the others) on the 1M-customer shop, with
every statement over 0.15 s timed and printed in the order it ran.

    .venv/bin/python -m bench.rule_run_statements                              # SQLite (a scratch copy)
    bash bench/postgres .venv/bin/python -m bench.rule_run_statements          # PostgreSQL, defaults
    bash bench/postgres --tuned .venv/bin/python -m bench.rule_run_statements  # max_wal_size, shared_buffers

The timing wraps the drivers (asyncpg's connection, Tortoise's SQLite client), so it sees the
statements of the run, the report totals and the outbox alike. Figures swing with machine load:
print `uptime` with them."""

import asyncio
import os
import time

import asyncpg
from tortoise.backends.sqlite.client import SqliteClient

from bench import rules
from bench.pg_shops import dsn, is_postgres_url, load_or_reuse

SLOW_S = 0.15
_slow: list[tuple[float, str]] = []


def _timed(cls: type, name: str) -> None:
    original = getattr(cls, name)

    async def timed(self, query, *args, **kwargs):
        started = time.perf_counter()
        try:
            return await original(self, query, *args, **kwargs)
        finally:
            if (seconds := time.perf_counter() - started) > SLOW_S:
                _slow.append((seconds, " ".join(str(query).split())[:200]))

    setattr(cls, name, timed)


_postmaster: list[int] = []  # the bench server's postmaster pid, once known


def _server_cpu() -> float | None:
    """CPU seconds the PostgreSQL server's processes (the postmaster and its children: backends,
    checkpointer, WAL writer ...) have used so far: less swayed by the machine's load than the
    wall clock, which other work on the same cores stretches. None on SQLite or elsewhere."""
    if not _postmaster:
        return None
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == _postmaster[0] or int(fields[1]) == _postmaster[0]:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


async def _data_directory(server: str) -> str:
    connection = await asyncpg.connect(dsn(server))
    try:
        return await connection.fetchval("SHOW data_directory")
    finally:
        await connection.close()


def _find_postmaster(server: str) -> None:
    try:
        with open(os.path.join(asyncio.run(_data_directory(server)), "postmaster.pid")) as pid_file:
            _postmaster.append(int(pid_file.readline()))
    except OSError:  # not on this machine, or not readable: wall clock only
        pass


async def _save_and_print(save) -> float:
    _slow.clear()
    cpu = _server_cpu()
    started = time.perf_counter()
    await save()
    seconds = time.perf_counter() - started
    used = f", server CPU {_server_cpu() - cpu:.1f} s" if cpu is not None else ""
    print(f"--- {seconds:.1f} s{used}, of which statements over {SLOW_S} s: {sum(s for s, _ in _slow):.1f} s")
    for spent, statement in _slow:
        print(f"  {spent:6.2f}  {statement}")
    return seconds


def main() -> None:
    for name in ("execute", "fetch", "executemany"):
        _timed(asyncpg.connection.Connection, name)
    for name in ("execute_query", "execute_many", "execute_query_dict"):
        _timed(SqliteClient, name)
    rules._timed_save = _save_and_print
    server = os.environ.get("DATABASE_URL")
    server = server if is_postgres_url(server) else None
    rules.build_or_reuse(rules.LARGE)
    if server:
        load_or_reuse(rules.LARGE, server)
    results = rules.Results()
    print(asyncio.run(rules._server_version(server)) if server else "SQLite")
    if server:
        _find_postmaster(server)
    print(f"load average {os.getloadavg()}")
    with rules._copy_of(rules.LARGE, server) as url:
        asyncio.run(rules.measure_moves(rules.LARGE, url, results))
    print(f"load average {os.getloadavg()}")
    for move in results.moves:
        print(f"{move['what']}: {move['joined']:,} joined, {move['left']:,} left in {move['seconds']:.1f} s")


if __name__ == "__main__":
    main()

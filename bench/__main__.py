"""Every benchmark, then one table of their headline figures: `python -m bench` (`make bench`).

`python -m bench rules reports` runs only those; with DATABASE_URL a PostgreSQL server's (`make
bench-postgres` starts one with bench/postgres), the ones that run there. Each module runs in a process of its own (as
`python -m bench.<module>` would), prints its own report as it goes, and records its headline
figures (bench/summary.py); the table at the end lists them all, each beside the baseline measured in
the same run, with the scale and database it ran at. A module that fails is named at the end and
the exit status says so; the others still run. BENCH_CUSTOMERS (100000 or 1000000) puts every
benchmark whose figures grow with the shop on that one shop (bench/shops.py `shop_at_scale`).
"""

import os
import subprocess
import sys
import tempfile
import time

from bench.shops import SCALE_VARIABLE
from bench.summary import SUMMARY_FILE, database_name, read, table

MODULES = [
    "overview",
    "pages",
    "previews",
    "rung_preview",
    "rules",
    "imports",
    "orders",
    "members",
    "pricing",
    "reports",
    "writes",
    "webhooks",
    "load",
]


# What runs against PostgreSQL (DATABASE_URL a postgres URL, as `make bench-postgres` sets it).
POSTGRES_MODULES = ["previews", "rules", "pages_postgres"]


def main(argv: list[str]) -> int:
    known = MODULES + POSTGRES_MODULES
    modules = argv or (POSTGRES_MODULES if database_name() == "PostgreSQL" else MODULES)
    unknown = [m for m in modules if m not in known]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(dict.fromkeys(known))}", file=sys.stderr)
        return 2
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="customer-groups-bench-summary-") as directory:
        summary = os.path.join(directory, "summary.jsonl")
        open(summary, "w").close()
        env = {**os.environ, SUMMARY_FILE: summary}
        for module in modules:
            print(f"\n=== bench.{module} ===", flush=True)
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", f"bench.{module}"], env=env, check=False)
            print(f"=== bench.{module}: {time.perf_counter() - started:.0f} s, exit status {result.returncode}")
            if result.returncode:
                failed.append(module)
        figures = read(summary)
    load = os.getloadavg()
    scale = os.environ.get(SCALE_VARIABLE)
    at = f"{SCALE_VARIABLE}={scale}" if scale else f"each at its own scale ({SCALE_VARIABLE} unset)"
    print(f"\nHeadline figures ({len(figures)}), {at}; machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} now.")
    print(table(figures) if figures else "(none recorded)")
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

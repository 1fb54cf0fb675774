"""One table for every benchmark: each module still prints its own report, and also records its
headline figures here; `python -m bench` (what `make bench` runs) collects them and prints them in
one table, each beside its baseline measured in the same run and the scale it ran at.

A module records through `record(...)`; the figures go, one JSON object a line, to the file named by
BENCH_SUMMARY (set by `python -m bench`), so a module run on its own records nothing and prints its
report as before.
"""

import json
import os
from dataclasses import asdict, dataclass

SUMMARY_FILE = "BENCH_SUMMARY"


@dataclass(frozen=True)
class Figure:
    bench: str  # the module, e.g. "rules"
    what: str  # e.g. "preview, ANY group rule (22.5%) p95"
    scale: str  # e.g. "1,000,000 customers"
    database: str  # "SQLite" or "PostgreSQL"
    value: float
    unit: str  # "ms", "s", "MB", "x"
    baseline: float | None  # measured in the same run, in the same unit
    baseline_is: str  # what the baseline is, e.g. "plain sqlite3", "1 tab"
    target: str  # e.g. "< 250 ms", "<= 1.3x"; empty for a figure without one
    verdict: str  # "PASS", "MISS" or empty

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def database_name(url: str | None = None) -> str:
    url = url if url is not None else os.environ.get("DATABASE_URL", "")
    return "PostgreSQL" if url.startswith(("postgres", "asyncpg")) else "SQLite"


def verdict(passed: bool | None) -> str:
    return "" if passed is None else "PASS" if passed else "MISS"


def record(
    bench: str,
    what: str,
    value: float,
    unit: str,
    *,
    scale: str,
    baseline: float | None = None,
    baseline_is: str = "",
    target: str = "",
    passed: bool | None = None,
    database: str | None = None,
) -> None:
    """Keep one figure for the summary table (nothing happens when no summary is being collected)."""
    path = os.environ.get(SUMMARY_FILE)
    if not path:
        return
    figure = Figure(
        bench=bench,
        what=what,
        scale=scale,
        database=database or database_name(),
        value=value,
        unit=unit,
        baseline=baseline,
        baseline_is=baseline_is,
        target=target,
        verdict=verdict(passed),
    )
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(json.dumps(asdict(figure)) + "\n")


def read(path: str) -> list[Figure]:
    with open(path, encoding="utf-8") as summary:
        return [Figure(**json.loads(line)) for line in summary if line.strip()]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def table(figures: list[Figure]) -> str:
    """The figures as one plain-text table, in the order recorded."""
    header = ("bench", "figure", "scale", "database", "value", "baseline", "ratio", "baseline is", "target", "verdict")
    rows = [
        (
            f.bench,
            f.what,
            f.scale,
            f.database,
            _number(f.value, f.unit),
            _number(f.baseline, f.unit),
            f"{f.ratio:.2f}x" if f.ratio is not None else "",
            f.baseline_is,
            f.target,
            f.verdict,
        )
        for f in figures
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    right = {4, 5, 6}  # numbers line up on the right
    lines = []
    for row in (header, *rows):
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)

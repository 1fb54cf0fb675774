"""`make bench` ends with one table: what each benchmark recorded, beside its baseline."""

from bench.summary import SUMMARY_FILE, read, record, table


def test_recorded_figures_come_back_as_one_table_with_their_baselines(tmp_path, monkeypatch):
    summary = tmp_path / "summary.jsonl"
    monkeypatch.setenv(SUMMARY_FILE, str(summary))
    monkeypatch.setenv("DATABASE_URL", "postgres://bench@localhost/shop")
    record(
        "rules",
        "preview p95",
        310.0,
        "ms",
        scale="1,000,000 customers",
        baseline=250.0,
        baseline_is="psql",
        target="<= 1.3x",
        passed=True,
    )
    monkeypatch.delenv("DATABASE_URL")
    record("webhooks", "events delivered", 12.5, "s", scale="10,000 events", target="< 60 s", passed=False)

    figures = read(str(summary))
    assert [(f.bench, f.database, f.verdict) for f in figures] == [
        ("rules", "PostgreSQL", "PASS"),
        ("webhooks", "SQLite", "MISS"),
    ]
    lines = table(figures).splitlines()
    assert lines[0].split() == [
        "bench", "figure", "scale", "database", "value", "baseline", "ratio", "baseline", "is", "target", "verdict"
    ]  # fmt: skip
    assert "310 ms" in lines[2] and "250 ms" in lines[2] and "1.24x" in lines[2] and lines[2].endswith("PASS")
    assert "12.5 s" in lines[3] and "x " not in lines[3] and lines[3].endswith("MISS")


def test_a_benchmark_run_on_its_own_records_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(SUMMARY_FILE, raising=False)
    monkeypatch.chdir(tmp_path)
    record("pricing", "quote p95", 3.0, "ms", scale="50 lines")
    assert list(tmp_path.iterdir()) == []

"""Real flow runs on a temporary Prefect API (one per test session)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from conftest import hold_lock

from newswatch.warehouse.connection import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _ingest(seeds, db):
    from newswatch.flows.ingest import ingest_seeds

    return asyncio.run(ingest_seeds(directory=str(seeds), db=str(db), batch_size=2))


def test_ingest_seeds_loads_tags_and_is_idempotent(seeds_copy, db_path):
    summary = _ingest(seeds_copy, db_path)
    assert (summary.files, summary.ingested, summary.rejected) == (5, 5, 0)
    assert summary.mentions > 200
    with connect(db_path, read_only=True) as con:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM entities)").fetchall()[0]
    assert counts[0] == 5 and counts[1] == summary.mentions and counts[2] >= 24

    again = _ingest(seeds_copy, db_path)
    assert (again.ingested, again.already_held) == (0, 5)
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM mentions").fetchall()[0][0] == counts[1]


def test_bad_seed_files_are_skipped_and_recorded(seeds_copy, db_path):
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "latin1.txt").write_bytes("Kazakhstan’s café".encode("cp1252"))
    (seeds_copy / "huge.txt").write_bytes(b"Kazakhstan " * 600_000)  # 6.6 MB > 5 MB
    summary = _ingest(seeds_copy, db_path)
    assert (summary.files, summary.ingested, summary.rejected) == (8, 5, 3)
    reasons = {r.item.rsplit("/", 1)[-1]: r.reason for r in summary.rejects}
    assert reasons == {"empty.txt": "empty", "latin1.txt": "not_utf8", "huge.txt": "too_large"}
    with connect(db_path, read_only=True) as con:
        rows = con.execute("SELECT reason, detail FROM rejects ORDER BY reason").fetchall()
    assert [r[0] for r in rows] == ["empty", "not_utf8", "too_large"]
    assert all("txt" in detail for _, detail in rows)


def test_a_locked_warehouse_is_retried_by_the_load_task(seeds_copy, db_path, monkeypatch):
    connect(db_path).__enter__().close()
    holder = hold_lock(db_path, 2.5)
    # each attempt gives up on the lock quickly, so the task's retries do the waiting
    monkeypatch.setenv("NEWSWATCH_LOCK_TIMEOUT", "0.2")
    summary = _ingest(seeds_copy, db_path)
    holder.wait(timeout=10)
    assert summary.ingested == 5


def test_daily_digest_writes_files_and_records_the_build(seeds_copy, db_path, tmp_path):
    from newswatch.flows.digest import daily_digest
    from newswatch.warehouse.compact import partial_row_groups

    _ingest(seeds_copy, db_path)
    with connect(db_path, read_only=True) as con:
        assert partial_row_groups(con, "articles") == 3  # a row group per load
    result = asyncio.run(daily_digest(db=str(db_path), out_dir=str(tmp_path / "digests")))
    with connect(db_path, read_only=True) as con:  # then the day's compaction
        assert partial_row_groups(con, "articles") == 1
    today = datetime.now().astimezone().date()
    assert abs((result.day - today).days) <= 1  # today in Asia/Almaty
    with connect(db_path, read_only=True) as con:
        stories = con.execute("SELECT count(*) FROM stories").fetchall()[0][0]
    # the digest counts stories as the warehouse does (batches of two bring the seeds
    # out of date order: the 20 January piece arrives a week after the 13th's, alone)
    assert result.stories == stories <= 2
    text = result.files.text.read_text()
    assert "After Kazakhstan, What’s Next for the CSTO?" in text
    assert "Fair Observer" in text
    assert result.files.eml.exists() and result.files.html.exists()
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT status, stories FROM digests").fetchall() == [
            ("built", stories)]

    # the 07:00 deployment digests the day before: a quiet day here
    yesterday = asyncio.run(daily_digest(db=str(db_path), out_dir=str(tmp_path / "digests"),
                                         days_back=1))
    assert (result.day - yesterday.day).days == 1 and yesterday.stories == 0
    assert "A quiet day" in yesterday.files.text.read_text()


def test_digest_dry_run_changes_nothing(seeds_copy, db_path, tmp_path, monkeypatch):
    """`newswatch digest --dry-run`: no compaction, no row in digests, no file written
    (it prints the digest), unless --out asks for files."""
    import hashlib

    from typer.testing import CliRunner

    from newswatch.cli import app

    _ingest(seeds_copy, db_path)
    digests = tmp_path / "digests"
    monkeypatch.setenv("NEWSWATCH_DIGESTS_DIR", str(digests))
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    result = CliRunner().invoke(app, ["--db", str(db_path), "digest", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "After Kazakhstan, What’s Next for the CSTO?" in result.output
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    assert not digests.exists()

    out = tmp_path / "elsewhere"
    asked = CliRunner().invoke(app, ["--db", str(db_path), "digest", "--dry-run",
                                     "--out", str(out)])
    assert asked.exit_code == 0, asked.output
    assert len(list(out.glob("*.html"))) == 1 and not digests.exists()
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM digests").fetchall() == [(0,)]


def test_a_malformed_watchlist_fails_the_run_naming_the_line(seeds_copy, db_path):
    from newswatch.errors import WatchlistError
    from newswatch.flows.ingest import ingest_seeds

    watchlist = seeds_copy / "watchlist.toml"
    lines = watchlist.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("kind = "))
    lines[line - 1] = 'kind = "PERSN"'
    watchlist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match=f"watchlist.toml, line {line}: unknown kind"):
        asyncio.run(ingest_seeds(directory=str(seeds_copy), db=str(db_path)))
    assert not db_path.exists()  # nothing was half-loaded

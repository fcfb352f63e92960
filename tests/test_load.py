"""Bulk loading: idempotent, exact duplicates stored once, one transaction per batch."""

from __future__ import annotations

import random
from dataclasses import replace

import duckdb
import pytest
from conftest import load

from newswatch.extractors.identity import article_id
from newswatch.extractors.records import Article, Mention, Reject
from newswatch.warehouse import load_tuning
from newswatch.warehouse.connection import connect
from newswatch.warehouse.load import ARTICLE_COLUMNS, read_raw, record_rejects
from newswatch.warehouse.load_tuning import small_scan_cache


def _article(name: str, text: str) -> Article:
    start = text.index("Tokayev")
    return Article(
        text=text, raw="LABEL\n" + text, title=text.splitlines()[0], seed_file=name,
        mentions=[
            Mention("tokayev", "Tokayev", start, start + 7, "the sentence"),
            Mention("kazakhstan", "Kazakh", 0, 6, "the sentence", form="demonym"),
        ],
    )


def _counts(con):
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("articles", "mentions", "demonym_mentions", "raw_documents")}


def test_load_is_idempotent(db_path):
    batch = [_article("a.txt", "Kazakh news\nTokayev spoke."),
             _article("b.txt", "Kazakh view\nTokayev left.")]
    with connect(db_path) as con:
        first = load(con, batch)
        assert (first.inserted, first.mentions, first.demonyms) == (2, 2, 2)
        again = load(con, batch)
        assert (again.inserted, again.duplicates) == (0, 2)
        assert _counts(con) == {"articles": 2, "mentions": 2, "demonym_mentions": 2,
                                "raw_documents": 2}


def test_the_same_text_under_another_name_is_stored_once(db_path):
    with connect(db_path) as con:
        load(con, [_article("a.txt", "Kazakh news\nTokayev spoke.")])
        # different file, same text up to case and whitespace
        result = load(con, [_article("copy.txt", "KAZAKH NEWS  \nTokayev   spoke.")])
        assert result.inserted == 0 and result.duplicates == 1
        assert _counts(con)["articles"] == 1


def test_raw_text_is_kept_compressed_and_comes_back(db_path):
    article = _article("a.txt", "Kazakh news\nTokayev spoke.")
    with connect(db_path) as con:
        [aid] = load(con, [article]).inserted_ids
        assert read_raw(con, aid) == article.raw
        size, stored = con.execute(
            "SELECT raw_size, octet_length(raw_zlib) FROM raw_documents").fetchall()[0]
        assert size == len(article.raw.encode())
        assert stored > 0


def test_a_failing_batch_leaves_nothing_behind(db_path):
    good = _article("a.txt", "Kazakh news\nTokayev spoke.")
    # text None violates NOT NULL when the rows go in, after the story matching
    bad = replace(_article("b.txt", "Kazakh view\nTokayev left."), text=None)
    with connect(db_path) as con:
        with pytest.raises((duckdb.Error, TypeError)):
            load(con, [good, bad])
        assert _counts(con) == {"articles": 0, "mentions": 0, "demonym_mentions": 0,
                                "raw_documents": 0}
        # the connection is still usable and the next batch loads
        assert load(con, [good]).inserted == 1


def test_rejects_are_recorded(db_path):
    with connect(db_path) as con:
        record_rejects(con, [Reject("x.txt", "read", "empty", "x.txt is empty")])
        assert con.execute("SELECT item, stage, reason FROM rejects").fetchall() == [
            ("x.txt", "read", "empty")]


def test_copies_within_one_batch_are_stored_once(db_path):
    first = _article("a.txt", "Kazakh news\nTokayev spoke.")
    same_id = _article("a.txt", "Kazakh news, updated\nTokayev spoke again.")
    same_text = _article("c.txt", "Kazakh news\nTokayev spoke.")
    other = _article("d.txt", "Kazakh view\nTokayev left.")
    with connect(db_path) as con:
        result = load(con, [first, same_id, same_text, other])
        assert (result.inserted, result.duplicates) == (2, 2)
        assert _counts(con) == {"articles": 2, "mentions": 2, "demonym_mentions": 2,
                                "raw_documents": 2}
        texts = sorted(r[0] for r in con.execute("SELECT text FROM articles").fetchall())
    assert texts == ["Kazakh news\nTokayev spoke.", "Kazakh view\nTokayev left."]


def test_a_batch_of_held_and_new_articles_adds_only_the_new_ones_rows(db_path):
    held = _article("a.txt", "Kazakh news\nTokayev spoke.")
    new = _article("b.txt", "Kazakh view\nTokayev left.")
    with connect(db_path) as con:
        load(con, [held])
        result = load(con, [held, new])
        assert (result.inserted, result.duplicates, result.mentions) == (1, 1, 1)
        assert _counts(con) == {"articles": 2, "mentions": 2, "demonym_mentions": 2,
                                "raw_documents": 2}
        # each article's rows are its own; the new one has its story decision
        rows = con.execute(
            "SELECT a.seed_file, count(m.article_id) FROM articles a JOIN mentions m"
            " USING (article_id) GROUP BY ALL ORDER BY 1").fetchall()
        links = con.execute("SELECT a.seed_file, l.story_id = a.story_id FROM story_links l"
                            " JOIN articles a USING (article_id) ORDER BY 1").fetchall()
    assert rows == [("a.txt", 1), ("b.txt", 1)]
    assert links == [("a.txt", True), ("b.txt", True)]


def test_rows_are_appended_in_the_articles_table_s_column_order(db_path):
    with connect(db_path) as con:
        columns = [r[0] for r in con.execute("DESCRIBE articles").fetchall()]
    assert tuple(columns) == ARTICLE_COLUMNS


def test_a_load_pauses_the_garbage_collector_and_restores_it_even_when_it_fails(
        db_path, monkeypatch):
    import gc

    import newswatch.warehouse.load as load_module

    enabled_while_appending = []
    real_append = load_module.append

    def watching_append(con, table, rows):
        enabled_while_appending.append(gc.isenabled())
        if table == "quotes" and fail:
            raise duckdb.IOException("disk full")  # as a failing write would
        return real_append(con, table, rows)

    monkeypatch.setattr(load_module, "append", watching_append)
    batch = [_article("a.txt", "Kazakh news\nTokayev spoke.")]
    with connect(db_path) as con:
        fail = True
        with pytest.raises(duckdb.IOException):
            load(con, batch)
        assert gc.isenabled()
        assert _counts(con)["articles"] == 0  # the failed batch rolled back whole
        fail = False
        assert load(con, batch).inserted == 1
    assert gc.isenabled()
    assert enabled_while_appending and not any(enabled_while_appending)


def test_a_load_knows_which_of_its_articles_the_warehouse_holds_after_it(db_path):
    # (ingest urls records each fetch's article only when the warehouse holds it)
    held = _article("a.txt", "Kazakh news\nTokayev spoke.")
    new = _article("b.txt", "Kazakh view\nTokayev left.")
    copy_of_held = _article("c.txt", "Kazakh news\nTokayev spoke.")
    copy_of_new = _article("d.txt", "Kazakh view\nTokayev left.")
    with connect(db_path) as con:
        load(con, [held])
        result = load(con, [held, new, copy_of_held, copy_of_new])
        in_table = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
    batch = {article_id(a) for a in (held, new, copy_of_held, copy_of_new)}
    assert result.held_ids == in_table & batch == {article_id(held), article_id(new)}


def _many_small_loads(path, loads: int = 70) -> None:
    """A warehouse of many small loads, each in row groups of its own, as ingest
    urls leaves one between compactions."""
    rng = random.Random(3)
    words = ["Tokayev", "Almaty", "spoke", "the", "CSTO", "troops"]
    with connect(path) as con:
        for b in range(loads):
            load(con, [Article(
                text=f"Story {b}-{i}. " + " ".join(rng.choice(words) for _ in range(300)),
                raw="raw", title=f"Story {b}-{i}", seed_file=f"{b}-{i}.txt",
            ) for i in range(4)])


def _table_blocks(con) -> int:
    """Bytes of table blocks DuckDB holds in memory."""
    return con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
                       " WHERE tag = 'BASE_TABLE'").fetchall()[0][0]


@pytest.mark.slow
def test_a_load_s_scans_of_the_warehouse_s_keys_keep_duckdb_s_cache_small(db_path,
                                                                         monkeypatch):
    # a test-sized allowance, below what this warehouse's scan reads uncapped
    SCAN_MEMORY_BYTES = 16 * 2**20
    monkeypatch.setattr(load_tuning, "SCAN_MEMORY_BYTES", SCAN_MEMORY_BYTES)
    _many_small_loads(db_path)
    scan = "SELECT count(DISTINCT article_id), count(DISTINCT content_hash) FROM articles"
    with connect(db_path, memory_limit="48MB") as con:
        con.execute(scan).fetchall()
        assert _table_blocks(con) > SCAN_MEMORY_BYTES  # DuckDB keeps what it read
    with connect(db_path, memory_limit="48MB") as con:
        shown = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        for _ in range(3):
            with small_scan_cache(con):
                con.execute(scan).fetchall()
                assert _table_blocks(con) <= SCAN_MEMORY_BYTES
            # put back as it was, each time (not what DuckDB shows, a little lower)
            assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == shown


def test_a_statement_among_the_scans_has_room_for_its_working_memory(db_path):
    # An out-of-memory error aborts the load's transaction. With 16 MiB beyond
    # what the load held, a join's 7.9 MiB allocation once failed (9.1 MiB in
    # use); this aggregate allocates 8 then 16 MiB and fails below 48.
    with connect(db_path) as con:
        con.begin()
        with small_scan_cache(con):
            length = con.execute("SELECT length(string_agg(md5(i::VARCHAR), ''))"
                                 " FROM range(200000) r(i)").fetchall()[0][0]
        con.commit()
    assert length == 200000 * 32


def test_a_memory_limit_duckdb_refuses_fails_alone_not_the_load_s_transaction(db_path, caplog):
    from newswatch.warehouse.load_tuning import _set_memory_limit

    with connect(db_path) as con:
        con.begin()
        record_rejects(con, [Reject("x.txt", "extract", "empty", "no text")])
        assert not _set_memory_limit(con.cursor(), "a lot")
        con.commit()
        assert con.execute("SELECT count(*) FROM rejects").fetchall()[0][0] == 1
    assert "could not set DuckDB's memory limit to a lot" in caplog.text


def test_the_scans_cache_is_never_set_above_the_limit_the_connection_was_opened_with(
        db_path, monkeypatch):
    # "48MB" is DuckDB's input form (10^6 bytes a MB), not the "45.7 MiB" it shows
    monkeypatch.setattr(load_tuning, "SCAN_MEMORY_BYTES", 64 * 2**20)
    with connect(db_path, memory_limit="48MB") as con:
        with small_scan_cache(con):
            shown = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert shown == "45.7 MiB"


def test_mentions_carry_their_article_s_first_seen_at_through_loads_and_reprocessing(db_path):
    # 017: the digest finds a day's mentions by this column alone, so it must be the
    # article's, also after reprocessing replaces them (later, at another time)
    from datetime import UTC, datetime
    from functools import partial

    from newswatch.flows.stories import RecentStories, story_article
    from newswatch.warehouse.reprocess import replace_articles

    first = _article("a.txt", "Tokayev spoke\n\nTokayev said more.")
    second = _article("b.txt", "Later Tokayev news\n\nTokayev again.")
    seen = [datetime(2026, 11, 2, 8, tzinfo=UTC), datetime(2026, 11, 3, 9, tzinfo=UTC)]
    with connect(db_path) as con:
        load(con, [first], now=seen[0])
        load(con, [second], now=seen[1])
        mismatched = ("SELECT count(*) FROM mentions m JOIN articles a USING (article_id)"
                      " WHERE m.first_seen_at IS DISTINCT FROM a.first_seen_at")
        assert con.execute("SELECT DISTINCT first_seen_at FROM mentions ORDER BY 1"
                           ).fetchall() == [(t,) for t in seen]
        assert con.execute(mismatched).fetchall() == [(0,)]
        retold = replace(first, text=first.text + " Tokayev, once more.", mentions=(
            *first.mentions, Mention("tokayev", "Tokayev", 34, 41, "the sentence")))
        replace_articles(con, [retold], story_article, partial(RecentStories().decide, con),
                         now=datetime(2026, 11, 5, tzinfo=UTC))
        assert con.execute("SELECT count(*) FROM mentions WHERE first_seen_at = ?",
                           [seen[0]]).fetchall() == [(2,)]
        assert con.execute(mismatched).fetchall() == [(0,)]

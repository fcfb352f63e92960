"""The schema is built by numbered migrations, each applied once."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.warehouse.connection import connect
from newswatch.warehouse.migrations import available_migrations

DESIGN_COLUMNS = {
    "articles": [
        "article_id", "url", "canonical_url", "seed_file", "title", "outlet", "author",
        "published_at", "first_seen_at", "language", "text", "content_hash", "story_id",
    ],
    "mentions": ["article_id", "entity_id", "surface", "start_char", "end_char", "sentence"],
    "entities": ["entity_id", "name", "kind", "aliases", "demonyms"],
}


def _columns(con, table):
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " ORDER BY ordinal_position", [table]).fetchall()]


def test_fresh_file_gets_every_migration_once(db_path):
    versions = [v for v, _, _ in available_migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    with connect(db_path) as con:
        applied = [r[0] for r in con.execute(
            "SELECT version FROM schema_migrations ORDER BY version").fetchall()]
        assert applied == versions
    with connect(db_path) as con:  # reopening applies nothing twice
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchall()[0][0] == len(
            versions)


def test_stable_tables_have_the_design_columns(db_path):
    with connect(db_path) as con:
        for table, columns in DESIGN_COLUMNS.items():
            # the design's names, in its order; later migrations only add columns after them
            assert _columns(con, table)[:len(columns)] == columns, table
        assert _columns(con, "articles")[len(DESIGN_COLUMNS["articles"]):] == [
            "published_source", "dates_disagree"]
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"raw_documents", "demonym_mentions", "rejects", "digests"} <= tables


def test_011_and_012_keep_a_warehouse_s_rows_and_drop_only_the_key_indexes(tmp_path):
    import duckdb

    from newswatch.warehouse.migrations import applied_versions, migrate

    con = duckdb.connect(str(tmp_path / "old.duckdb"))  # made before 011, with an article
    applied_versions(con)
    for version, name, sql in available_migrations():
        if version < 11:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [version, name])
    con.execute("INSERT INTO articles VALUES ('a1', 'https://x.example/1', NULL, NULL, 'T',"
                " 'X', NULL, NULL, TIMESTAMPTZ '2026-11-01 08:00+00', 'en', 'Text.', 'h1', 'a1')")
    con.execute("INSERT INTO article_fingerprints VALUES ('a1', -5, [1, 2], ['csto'], [2])")
    con.execute("INSERT INTO mentions VALUES ('a1', 'csto', 'CSTO', 0, 4, 'CSTO.')")
    keys = ("SELECT count(*) FROM duckdb_constraints() WHERE table_name IN"
            " ('articles', 'article_fingerprints') AND constraint_type = 'PRIMARY KEY'")
    assert con.execute(keys).fetchall() == [(2,)]
    assert migrate(con) == [v for v, _, _ in available_migrations() if v >= 11]
    assert con.execute(keys).fetchall() == [(0,)]
    assert con.execute("SELECT article_id, title, story_id FROM articles").fetchall() == [
        ("a1", "T", "a1")]
    assert con.execute("SELECT * FROM article_fingerprints").fetchall() == [
        ("a1", [1, 2], datetime(2026, 11, 1, 8, tzinfo=UTC))]
    assert con.execute("SELECT articles FROM stories").fetchall() == [(1,)]  # views still bind
    assert _columns(con, "articles")[:13] == DESIGN_COLUMNS["articles"]
    # 016: an old article's date has no known source; none at all reads as first_seen
    assert con.execute("SELECT published_source, dates_disagree FROM articles").fetchall() == [
        ("first_seen", None)]
    # 017: a mention carries its article's first_seen_at
    assert con.execute("SELECT article_id, first_seen_at FROM mentions").fetchall() == [
        ("a1", datetime(2026, 11, 1, 8, tzinfo=UTC))]
    con.close()


def test_013_keeps_old_links_and_gives_them_their_story(tmp_path):
    import duckdb

    from newswatch.warehouse.migrations import applied_versions, migrate

    con = duckdb.connect(str(tmp_path / "old.duckdb"))  # made before 013, with a follow-up
    applied_versions(con)
    for version, name, sql in available_migrations():
        if version < 13:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [version, name])
    for aid, seen in (("a1", "2026-11-01 08:00+00"), ("a2", "2026-11-02 08:00+00")):
        con.execute(f"INSERT INTO articles VALUES ('{aid}', NULL, NULL, '{aid}.txt', 'T', 'X',"
                    f" NULL, NULL, TIMESTAMPTZ '{seen}', 'en', 'Text.', 'h{aid}', 'a1')")
        con.execute(f"INSERT INTO article_fingerprints VALUES ('{aid}', 7, [1, 2], ['csto'],"
                    f" [2], TIMESTAMPTZ '{seen}')")
    con.execute("INSERT INTO story_links VALUES ('a2', 'follow_up', 'a1', 0.5, now())")
    assert migrate(con) == [v for v, _, _ in available_migrations() if v >= 13]
    assert con.execute("SELECT article_id, relation, related_article_id, story_id, evidence"
                       " FROM story_links").fetchall() == [("a2", "follow_up", "a1", "a1", None)]
    assert _columns(con, "article_fingerprints") == ["article_id", "sketch", "first_seen_at"]
    assert con.execute("SELECT count(*) FROM article_terms").fetchall() == [(0,)]
    # the old story reads as a timeline, its first article as "new"
    assert [r[3] for r in con.execute("SELECT * FROM story_timeline('a1')").fetchall()] == [
        "new", "follow_up"]
    assert con.execute("SELECT articles, began_at IS NOT NULL FROM stories").fetchall() == [
        (2, True)]
    con.close()

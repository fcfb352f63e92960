"""The digest's queries: a day is a calendar day in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from newswatch.extractors.records import Article, Mention
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import new_articles, record_digest
from newswatch.warehouse.load import load_batch


def _load(con, name, text, when, mentions):
    article = Article(text=text, raw=text, title=name, seed_file=name, mentions=mentions)
    load_batch(con, [article], now=when)


def _entities(con):
    con.execute("INSERT INTO entities VALUES ('tokayev', 'Kassym-Jomart Tokayev', 'PERSON',"
                " ['Tokayev'], []), ('csto', 'CSTO', 'ORG', ['CSTO'], [])")


def test_new_articles_of_a_day_in_almaty_time(db_path):
    late_utc = datetime(2022, 1, 12, 20, 0, tzinfo=UTC)  # 13 January in Almaty (UTC+5/6)
    with connect(db_path) as con:
        _entities(con)
        _load(con, "a.txt", "Tokayev asked the CSTO. Tokayev spoke.", late_utc, [
            Mention("tokayev", "Tokayev", 0, 7, "Tokayev asked the CSTO."),
            Mention("csto", "CSTO", 18, 22, "Tokayev asked the CSTO."),
            Mention("tokayev", "Tokayev", 24, 31, "Tokayev spoke."),
        ])
        _load(con, "b.txt", "Nothing watched here.", late_utc, [])
        on_13 = new_articles(con, date(2022, 1, 13), "Asia/Almaty")
        on_12 = new_articles(con, date(2022, 1, 12), "Asia/Almaty")
        utc_12 = new_articles(con, date(2022, 1, 12), "UTC")
    assert [a.seed_file for a in on_13] == ["a.txt"]  # b.txt mentions nothing watched
    [article] = on_13
    assert article.mentions == 3
    assert article.entities == [("Kassym-Jomart Tokayev", 2), ("CSTO", 1)]
    assert [m.start_char for m in article.spans] == [0, 18, 24]
    assert on_12 == [] and [a.seed_file for a in utc_12] == ["a.txt"]


def test_analysts_can_run_the_digest_macros(db_path):
    with connect(db_path) as con:
        _entities(con)
        _load(con, "a.txt", "Tokayev.", datetime(2022, 1, 13, 6, tzinfo=UTC),
              [Mention("tokayev", "Tokayev", 0, 7, "Tokayev.")])
        rows = con.execute("SELECT seed_file, mentions FROM "
                           "digest_new_articles(DATE '2022-01-13', 'Asia/Almaty')").fetchall()
        assert rows == [("a.txt", 1)]
        record_digest(con, date(2022, 1, 13), status="dry_run", stories=1, path="d.eml")
        assert con.execute("SELECT status, stories FROM digests").fetchall() == [("dry_run", 1)]


def test_attention_flags_spikes_and_new_entrants(db_path):
    from newswatch.digest.build import build_digest
    from newswatch.digest.render import render_html, render_text
    from newswatch.warehouse.digest import attention

    def mentions(entity, n):
        return [Mention(entity, "X", i, i + 1, "s") for i in range(n)]

    with connect(db_path) as con:
        _entities(con)
        # Tokayev: 2 a day for 7 days, then 9 on the day (a spike); the CSTO only on the day
        for back in range(1, 8):
            when = datetime(2022, 1, 13 - back, 6, tzinfo=UTC)
            _load(con, f"t{back}.txt", f"Tokayev day {back}.", when, mentions("tokayev", 2))
        _load(con, "d.txt", "The day itself.", datetime(2022, 1, 13, 6, tzinfo=UTC),
              mentions("tokayev", 9) + mentions("csto", 1))
        rows = {a.entity_id: a for a in attention(con, date(2022, 1, 13), "Asia/Almaty")}
    assert (rows["tokayev"].today, rows["tokayev"].trailing_mean) == (9, 2.0)
    assert rows["tokayev"].spike and not rows["tokayev"].new_entrant
    assert rows["csto"].new_entrant and not rows["csto"].spike  # 1 mention: under 3
    digest = build_digest([], date(2022, 1, 13), "Asia/Almaty", attention=list(rows.values()))
    text = render_text(digest)
    assert "Kassym-Jomart Tokayev" in text and "SPIKE" in text and "NEW" in text
    html = render_html(digest)
    assert "width:100.0%" in html and "spike</b>" in html


def test_mentions_in_the_headline_and_lead_rank_first(db_path):
    day = datetime(2022, 1, 13, 6, tzinfo=UTC)
    filler = "Weather and markets. " * 60
    headline = "Tokayev and the CSTO\n\n" + filler + "Nothing else."
    buried = "Weather report\n\n" + filler + " Tokayev. Tokayev. Tokayev. CSTO."
    with connect(db_path) as con:
        _entities(con)
        _load(con, "headline.txt", headline, day, [
            Mention("tokayev", "Tokayev", 0, 7, "s"), Mention("csto", "CSTO", 16, 20, "s")])
        start = buried.index("Tokayev")
        _load(con, "buried.txt", buried, day, [
            Mention("tokayev", "Tokayev", start + 9 * i, start + 9 * i + 7, "s")
            for i in range(3)] + [Mention("csto", "CSTO", len(buried) - 5, len(buried) - 1, "s")])
        ranked = [a.seed_file for a in new_articles(con, date(2022, 1, 13), "Asia/Almaty")]
    assert ranked == ["headline.txt", "buried.txt"]  # 2 mentions up front outweigh 4 buried


def test_a_copy_of_a_copy_is_grouped_with_the_first(db_path):
    """Copy links are followed hop by hop from the day's articles to the first copy."""
    days = {"a.txt": 11, "b.txt": 12, "c.txt": 13, "d.txt": 13}
    with connect(db_path) as con:
        _entities(con)
        for name, day in days.items():
            _load(con, name, f"Tokayev, in {name}.", datetime(2022, 1, day, 6, tzinfo=UTC),
                  [Mention("tokayev", "Tokayev", 0, 7, f"Tokayev, in {name}.")])
        ids = dict(con.execute("SELECT seed_file, article_id FROM articles").fetchall())
        # b copies a, c copies b; d continues c (in place of what loading found)
        con.execute("DELETE FROM story_links")
        con.executemany("INSERT INTO story_links VALUES (?, ?, ?, 0.9, now())", [
            (ids["b.txt"], "copy", ids["a.txt"]), (ids["c.txt"], "copy", ids["b.txt"]),
            (ids["d.txt"], "follow_up", ids["c.txt"])])
        on_13 = {a.seed_file: a for a in new_articles(con, date(2022, 1, 13), "UTC")}
        on_12 = {a.seed_file: a for a in new_articles(con, date(2022, 1, 12), "UTC")}
    assert on_13["c.txt"].copy_root == ids["a.txt"]
    assert (on_13["c.txt"].earlier.relation, on_13["c.txt"].earlier.title) == ("copy", "b.txt")
    assert on_13["d.txt"].copy_root == ids["d.txt"]  # a follow-up is no copy
    assert on_13["d.txt"].earlier.relation == "follow_up"
    assert on_12["b.txt"].copy_root == ids["a.txt"]

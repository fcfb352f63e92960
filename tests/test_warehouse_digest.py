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

"""The digest's queries: a day is a calendar day in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conftest import load

from newswatch.extractors.records import Article, Mention
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import attention, new_articles, record_digest


def _load(con, name, text, when, mentions):
    article = Article(text=text, raw=text, title=name, seed_file=name, mentions=mentions)
    load(con, [article], now=when)


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
    from newswatch.warehouse.digest import DigestData

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
    digest = build_digest(DigestData([], [], list(rows.values()), []), date(2022, 1, 13),
                          "Asia/Almaty")
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


def _published(con, name, text, published, seen, mentions, title=None):
    article = Article(text=text, raw=text, title=title or name, seed_file=name,
                      published_at=published, mentions=mentions)
    load(con, [article], now=seen)


def _tokayev(n, sentence="Tokayev spoke."):
    return [Mention("tokayev", "Tokayev", 0, 7, sentence) for _ in range(n)]


def test_a_backfill_counts_on_its_publication_days_by_published(db_path):
    """A backfill first seen on one day (the 15th) holds articles published over several:
    by first seen, the 13th is a quiet day; by published, it holds what came out then."""
    seen = datetime(2022, 1, 15, 6, tzinfo=UTC)
    with connect(db_path) as con:
        _entities(con)
        for day, n in ((12, 1), (13, 4), (14, 2)):
            _published(con, f"p{day}.txt", f"Tokayev on day {day}. " * n,
                       datetime(2022, 1, day, 6, tzinfo=UTC), seen, _tokayev(n))
        _published(con, "undated.txt", "Tokayev, date unknown.", None,
                   datetime(2022, 1, 13, 6, tzinfo=UTC), _tokayev(1))
        tz = "Asia/Almaty"
        by_seen = new_articles(con, date(2022, 1, 13), tz)
        by_published = new_articles(con, date(2022, 1, 13), tz, "published")
        seen_15 = new_articles(con, date(2022, 1, 15), tz)
        attention_13 = {a.entity_id: a for a in attention(con, date(2022, 1, 13), tz,
                                                          "published")}
        stories_13 = con.execute("SELECT count(*) FROM digest_stories(DATE '2022-01-13', ?,"
                                 " day_of := 'published')", [tz]).fetchall()[0][0]
    # first seen on the 13th: only the undated one (its day, by either count)
    assert [a.seed_file for a in by_seen] == ["undated.txt"]
    assert sorted(a.seed_file for a in by_published) == ["p13.txt", "undated.txt"]
    assert sorted(a.seed_file for a in seen_15) == ["p12.txt", "p13.txt", "p14.txt"]
    assert stories_13 == len({a.story_id for a in by_published})
    # attention follows the same day: 4 + 1 on the 13th, 1 in the week before
    assert (attention_13["tokayev"].today, attention_13["tokayev"].trailing_mean) == (
        5, round(1 / 7, 2))


def test_day_of_must_be_first_seen_or_published(db_path):
    import pytest

    from newswatch.warehouse.digest import digest_data

    with connect(db_path) as con, pytest.raises(ValueError, match="day_of"):
        digest_data(con, date(2022, 1, 13), "UTC", "fetched")


def test_a_story_with_articles_before_the_day_is_a_development(db_path):
    from newswatch.warehouse.digest import stories

    text = ("Tokayev said the CSTO peacekeepers in Almaty would guard the airport and "
            "the power stations while Kazakhstan restores order after the unrest.")
    later = text + " The first planes left Almaty on Thursday."
    with connect(db_path) as con:
        _entities(con)
        _published(con, "first.txt", text, datetime(2022, 1, 8, 6, tzinfo=UTC),
                   datetime(2022, 1, 8, 6, tzinfo=UTC), _tokayev(2, text), "CSTO in Almaty")
        _published(con, "later.txt", later, datetime(2022, 1, 13, 6, tzinfo=UTC),
                   datetime(2022, 1, 13, 6, tzinfo=UTC), _tokayev(2, later),
                   "CSTO leaves Almaty")
        [row] = stories(con, date(2022, 1, 13), "UTC")
        [first] = stories(con, date(2022, 1, 8), "UTC")
    assert row.development and row.earlier == 1 and row.articles == 1
    assert row.first.title == "CSTO in Almaty" and row.began_at.day == 8
    assert len(row.covered) > 5  # the terms of what the story said before the day
    assert not first.development and first.earlier == 0 and len(first.covered) == 0

"""The digest's stories and counts by the straightforward SQL: plain joins of
articles, mentions and entities, no macros, no shortcuts. `make bench-digest`
times it beside `digest_data` and checks that both say the same; a test does on
a small warehouse (tests/test_digest_days.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb


def _day(day_of: str) -> str:
    when = ("coalesce(a.published_at, a.first_seen_at)" if day_of == "published"
            else "a.first_seen_at")
    return (f"{when} >= timezone($tz, $d::TIMESTAMP)"
            f" AND {when} < timezone($tz, ($d + 1)::TIMESTAMP)")


def plain_answers(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                  day_of: str = "first_seen") -> tuple[list[tuple], list[tuple]]:
    """([(story_id, articles, mentions, weight)] most concerned first,
    sorted [(article_id, entity name, mentions)]) of `day` in time zone `tz`."""
    params = {"d": day, "tz": tz}
    stories = con.execute(f"""
        SELECT a.story_id, count(DISTINCT a.article_id), count(*),
               sum(CASE WHEN a.title IS NOT NULL AND m.end_char <= length(a.title) THEN 3
                        WHEN m.start_char < coalesce(length(a.title), 0) + 600 THEN 2
                        ELSE 1 END) AS weight
        FROM articles a JOIN mentions m USING (article_id) JOIN entities e USING (entity_id)
        WHERE {_day(day_of)}
        GROUP BY a.story_id ORDER BY weight DESC, a.story_id""", params).fetchall()
    entities = con.execute(f"""
        SELECT m.article_id, e.name, count(*)
        FROM articles a JOIN mentions m USING (article_id) JOIN entities e USING (entity_id)
        WHERE {_day(day_of)}
        GROUP BY ALL ORDER BY ALL""", params).fetchall()
    return stories, entities


def plain_attention(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                    day_of: str = "first_seen") -> list[tuple]:
    """Sorted [(entity_id, mentions on the day, daily mean of the 7 days before)]."""
    when = ("coalesce(a.published_at, a.first_seen_at)" if day_of == "published"
            else "a.first_seen_at")
    return con.execute(f"""
        SELECT entity_id, count(*) FILTER (WHERE day = $d),
               round(count(*) FILTER (WHERE day < $d) / 7.0, 2)
        FROM (SELECT m.entity_id, CAST(timezone($tz, {when}) AS DATE) AS day
              FROM articles a JOIN mentions m USING (article_id)
              JOIN entities e USING (entity_id))
        WHERE day BETWEEN $d - 7 AND $d
        GROUP BY entity_id ORDER BY entity_id""", {"d": day, "tz": tz}).fetchall()


def digest_answers(stories: Sequence, articles: Sequence) -> tuple[list[tuple], list[tuple]]:
    """The same two lists from digest_data's stories and articles."""
    return ([(s.story_id, s.articles, s.mentions, s.weight) for s in stories],
            sorted((a.article_id, name, n) for a in articles for name, n in a.entities))

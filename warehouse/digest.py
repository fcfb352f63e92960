"""The digest's data, read from the warehouse with the digest_* macros of schema/.

Querying lives here, rendering in newswatch.digest: the digest can be
rebuilt from SQL alone, and analysts can run the same macros. A day is a
calendar day in a time zone, counted by when articles were first seen (the
daily mail) or by when they were published (`day_of="published"`: history
and backfills).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import numpy as np

from newswatch.extractors.records import Mention

DAY_OF = ("first_seen", "published")


@dataclass
class DigestArticle:
    """One article of the digest's day, with what it mentions."""

    article_id: str
    story_id: str
    title: str | None
    outlet: str | None
    url: str | None
    seed_file: str | None
    published_at: datetime | None
    first_seen_at: datetime
    mentions: int
    text: str = ""
    language: str | None = None
    weight: int = 0                  # mentions in the headline 3, in the lead 2, else 1
    entities: list[tuple[str, int]] = field(default_factory=list)  # (name, mentions)
    spans: list[Mention] = field(default_factory=list)
    # how it joined its story: "new", "copy", "same_event", "development" (None: unknown)
    relation: str | None = None
    # the sentence that says what it added to its story when it arrived
    development: str | None = None
    # its quotes with a speaker, the most telling first: (speaker, quote)
    quotes: list[tuple[str, str]] = field(default_factory=list)
    # people it names next to watched entities (not on the watchlist)
    people: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FirstArticle:
    """Where a story began: its first article."""

    title: str | None
    outlet: str | None
    url: str | None


@dataclass
class DigestStoryRow:
    """One story with articles on the day (the digest_stories macro), and what its
    coverage before the day held (`covered`: the hashes of its articles' terms)."""

    story_id: str
    headline: str | None
    articles: int
    outlets: list[str]
    mentions: int
    weight: int
    began_at: datetime
    first_article_id: str
    earlier: int
    development: bool
    first: FirstArticle | None = None
    covered: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True)
class NewName:
    """A person named next to watched entities on the day, not on the watchlist."""

    name: str
    mentions: int
    articles: int
    first_seen: date
    is_new: bool             # never named before the day
    first_sentence: str
    first_title: str | None
    first_outlet: str | None


@dataclass(frozen=True)
class Attention:
    """Mentions of one entity on the day against the mean of the 7 days before."""

    entity_id: str
    name: str
    today: int
    trailing_mean: float
    spike: bool
    new_entrant: bool


@dataclass
class DigestData:
    """Everything the digest of one day needs, read in one go."""

    articles: list[DigestArticle]
    stories: list[DigestStoryRow]
    attention: list[Attention]
    names: list[NewName]
    day_of: str = "first_seen"


def digest_data(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                day_of: str = "first_seen") -> DigestData:
    """The digest's rows for `day` in time zone `tz`; rendering is another module's job."""
    _check(day_of)
    articles = new_articles(con, day, tz, day_of)
    return DigestData(articles, stories(con, day, tz, day_of, articles),
                      attention(con, day, tz, day_of), new_names(con, day, tz, day_of=day_of),
                      day_of)


def _check(day_of: str) -> None:
    if day_of not in DAY_OF:
        raise ValueError(f"day_of must be one of {', '.join(DAY_OF)}, not {day_of!r}")


def new_articles(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                 day_of: str = "first_seen") -> list[DigestArticle]:
    """Articles of `day` (in time zone `tz`) that mention watched entities, the most
    concerned first (mentions in the headline and lead weigh more).

    The same rows as the digest_new_articles and digest_article_entities macros,
    added up here from one scan of `mentions`, the warehouse's largest table
    (the macros' joins scanned it three times: 0.22 s of a digest of 1M articles).
    """
    args = [day, tz, day_of]
    found: dict[str, list[Mention]] = {}
    names: dict[str, str] = {}
    for aid, eid, name, surface, start, end, sentence in con.execute(
        "SELECT m.article_id, m.entity_id, e.name, m.surface, m.start_char, m.end_char,"
        " m.sentence FROM mentions m"
        " JOIN digest_day_articles(?, ?, day_of := ?) a USING (article_id)"
        " JOIN entities e USING (entity_id) ORDER BY m.article_id, m.start_char", args,
    ).fetchall():
        found.setdefault(aid, []).append(Mention(eid, surface, start, end, sentence))
        names[eid] = name
    if not found:
        return []
    articles = []
    for row in con.execute(
        "SELECT article_id, story_id, title, outlet, url, seed_file, published_at,"
        " first_seen_at, text, language FROM digest_day_articles(?, ?, day_of := ?)", args,
    ).fetchall():
        if (spans := found.get(row[0])) is None:
            continue
        title = row[2]
        lead = len(title or "") + 600
        counts = Counter(names[m.entity_id] for m in spans)
        articles.append(DigestArticle(
            *row[:8], mentions=len(spans), text=row[8], language=row[9],
            weight=sum(3 if title is not None and m.end_char <= len(title)
                       else 2 if m.start_char < lead else 1 for m in spans),
            entities=sorted(counts.items(), key=lambda c: (-c[1], c[0])), spans=spans))
    articles.sort(key=lambda a: (-a.weight, a.first_seen_at, a.article_id))
    by_id = {a.article_id: a for a in articles}
    for aid, speaker, quote in con.execute(
        "SELECT article_id, speaker, quote FROM digest_quotes(?, ?, day_of := ?) WHERE rank <= 3"
        " ORDER BY article_id, rank", args
    ).fetchall():
        if aid in by_id:
            by_id[aid].quotes.append((speaker, quote))
    for aid, name in con.execute(
        "SELECT p.article_id, p.name FROM person_mentions p"
        " JOIN digest_day_articles(?, ?, day_of := ?) a USING (article_id)"
        " WHERE p.near_watched GROUP BY ALL ORDER BY min(p.start_char)", args,
    ).fetchall():
        if aid in by_id:
            by_id[aid].people.append(name)
    # a link is stored as its article is: found by when, which the table is ordered by
    seen = min(a.first_seen_at for a in articles)
    for aid, relation, development in con.execute(
        "SELECT article_id, relation, development FROM story_links WHERE linked_at >= ?"
        " AND article_id IN (SELECT unnest(?::VARCHAR[]))", [seen, list(by_id)],
    ).fetchall():
        if aid in by_id:
            by_id[aid].relation, by_id[aid].development = relation, development
    return articles


def stories(con: duckdb.DuckDBPyConnection, day: date, tz: str,
            day_of: str = "first_seen", articles: Sequence[DigestArticle] | None = None,
            ) -> list[DigestStoryRow]:
    """The stories with articles on `day`, as the digest_stories macro gives them, with
    where each began and, for a development, the terms its coverage before the day
    held. With the day's `articles` (new_articles) at hand, only where the stories
    began is read (digest_story_starts), not the day's articles again."""
    if articles is None:
        articles = new_articles(con, day, tz, day_of)
    if not articles:
        return []
    day_rows: dict[str, list[DigestArticle]] = {}
    for article in articles:
        day_rows.setdefault(article.story_id, []).append(article)
    starts = {row[0]: row[1:] for row in con.execute(
        "SELECT story_id, began_at, first_article_id, earlier, first_title, first_outlet,"
        " first_url FROM digest_story_starts(?, ?, ?, day_of := ?)",
        [list(day_rows), day, tz, day_of]).fetchall()}
    rows = []
    for story_id, group in day_rows.items():
        began, first_id, earlier, title, outlet, url = starts[story_id]
        lead = max(group, key=lambda a: (a.weight, -a.first_seen_at.timestamp()))
        rows.append(DigestStoryRow(
            story_id, lead.title, len(group),
            sorted({a.outlet for a in group if a.outlet}), sum(a.mentions for a in group),
            sum(a.weight for a in group), began, first_id, earlier, earlier > 0,
            FirstArticle(title, outlet, url)))
    rows.sort(key=lambda r: (-r.weight, r.story_id))
    developing = [r.story_id for r in rows if r.development]
    if developing:
        covered = _covered(con, developing, day, tz, day_of)
        for row in rows:
            row.covered = covered.get(row.story_id, row.covered)
    return rows


def _covered(con: duckdb.DuckDBPyConnection, story_ids: Sequence[str], day: date, tz: str,
             day_of: str) -> dict[str, np.ndarray]:
    """{story: the sorted hashes of the terms of its articles before `day`}."""
    earlier = con.execute(
        "SELECT article_id, story_id, first_seen_at FROM articles"
        " WHERE story_id IN (SELECT unnest(?::VARCHAR[]))"
        " AND (CASE WHEN ? = 'published' THEN coalesce(published_at, first_seen_at)"
        "      ELSE first_seen_at END) < digest_day_start(?, ?)",
        [list(story_ids), day_of, day, tz]).fetchall()
    if not earlier:
        return {}
    story_of = {aid: story for aid, story, _ in earlier}
    # found by first_seen_at, which the table is ordered by: no scan of every row's lists
    terms = con.execute(
        "SELECT article_id, hashes FROM article_terms WHERE first_seen_at >= ?"
        " AND article_id IN (SELECT unnest(?::VARCHAR[]))",
        [min(seen for _, _, seen in earlier), list(story_of)]).fetchall()
    found: dict[str, list[list[int]]] = {}
    for aid, hashes in terms:
        found.setdefault(story_of[aid], []).append(hashes)
    return {story: np.unique(np.concatenate([np.asarray(h, np.int64) for h in lists]))
            for story, lists in found.items()}


def record_digest(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    status: str,
    stories: int,
    path: str,
    recipient: str | None = None,
    error: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Add a row to `digests` for a built digest or one delivery of it."""
    con.execute(
        "INSERT INTO digests (digest_date, recipient, status, stories, path, error,"
        " created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, current_timestamp, ?)",
        [day, recipient, status, stories, path, error, sent_at],
    )


def already_sent(con: duckdb.DuckDBPyConnection, day: date, recipient: str) -> bool:
    """Whether the digest of `day` was delivered to `recipient` before."""
    return bool(con.execute(
        "SELECT count(*) FROM digests WHERE digest_date = ? AND recipient = ?"
        " AND status = 'sent'", [day, recipient]).fetchall()[0][0])


def attention(con: duckdb.DuckDBPyConnection, day: date, tz: str,
              day_of: str = "first_seen") -> list[Attention]:
    """The digest_attention macro's rows (014_digest_by_story.sql)."""
    return [Attention(*row) for row in con.execute(
        "SELECT entity_id, name, today, trailing_mean, spike, new_entrant"
        " FROM digest_attention(?, ?, day_of := ?)", [day, tz, day_of]).fetchall()]


def new_names(
    con: duckdb.DuckDBPyConnection, day: date, tz: str, limit: int = 10,
    day_of: str = "first_seen",
) -> list[NewName]:
    """People first named next to watched entities on `day`, most mentioned first
    (the digest_new_names macro of 014_digest_by_story.sql, new ones only)."""
    return [NewName(*row) for row in con.execute(
        "SELECT name, mentions, articles, first_seen, is_new, first_sentence, first_title,"
        " first_outlet FROM digest_new_names(?, ?, day_of := ?) WHERE is_new LIMIT ?",
        [day, tz, day_of, limit]).fetchall()]

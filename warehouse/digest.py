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
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np

from newswatch.extractors.records import Span
from newswatch.warehouse.load_tuning import collector_paused

DAY_OF = ("first_seen", "published")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    spans: list[Span] = field(default_factory=list)
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


def utc(epoch_us: int | None) -> datetime | None:
    """A TIMESTAMPTZ read as epoch_us(...), as an aware datetime in UTC: DuckDB's own
    conversion looks the connection's time zone up in pytz for every value (a
    tenth of the digest's time on a day of 2,700 articles)."""
    return None if epoch_us is None else _EPOCH + timedelta(microseconds=epoch_us)


def digest_data(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                day_of: str = "first_seen") -> DigestData:
    """The digest's rows for `day` in time zone `tz`; rendering is another module's job."""
    _check(day_of)
    # tens of thousands of small objects, none of them garbage: the collector's
    # passes over them were a seventh of the time
    with collector_paused():
        articles = new_articles(con, day, tz, day_of)
        return DigestData(articles, stories(con, day, tz, day_of, articles),
                          attention(con, day, tz, day_of),
                          new_names(con, day, tz, day_of=day_of), day_of)


def _check(day_of: str) -> None:
    if day_of not in DAY_OF:
        raise ValueError(f"day_of must be one of {', '.join(DAY_OF)}, not {day_of!r}")


def new_articles(con: duckdb.DuckDBPyConnection, day: date, tz: str,
                 day_of: str = "first_seen") -> list[DigestArticle]:
    """Articles of `day` (in time zone `tz`) that mention watched entities, the most
    concerned first (mentions in the headline and lead weigh more).

    The same rows as the digest_new_articles and digest_article_entities macros,
    added up here from one read of the day's mentions (017 finds them by time,
    not by a join over the whole table) as arrays: a busy day has tens of
    thousands, and a Python object for each cost more than the query.
    """
    args = [day, tz, day_of]
    watched = con.execute("SELECT entity_id, name FROM entities ORDER BY entity_id").fetchall()
    entity_ids, names = [e for e, _ in watched], [n for _, n in watched]
    # the day's mentions, article by article: entity (its number), start, end
    mentions = con.execute(
        "SELECT e.k, m.start_char, m.end_char FROM digest_day_mentions(?, ?, day_of := ?) m"
        " JOIN (SELECT entity_id, row_number() OVER (ORDER BY entity_id) - 1 AS k"
        "       FROM entities) e USING (entity_id)"
        " ORDER BY m.article_id, m.start_char, m.end_char, e.k", args).fetchnumpy()
    rows = con.execute(
        "SELECT a.article_id, a.story_id, a.title, a.outlet, a.url, a.seed_file,"
        " epoch_us(a.published_at), epoch_us(a.first_seen_at), a.text, a.language, m.n"
        " FROM digest_day_articles(?, ?, day_of := ?) a"
        " JOIN (SELECT article_id, count(*) AS n FROM digest_day_mentions(?, ?, day_of := ?)"
        "       JOIN entities USING (entity_id) GROUP BY article_id) m USING (article_id)"
        " ORDER BY a.article_id", args + args).fetchall()
    if not rows:
        return []
    # article i's mentions are [bounds[i], bounds[i + 1]) of the arrays
    counts = np.array([row[10] for row in rows], np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    entity_k, starts, ends = (mentions[c].astype(np.int64)
                              for c in ("k", "start_char", "end_char"))
    # a mention in the headline weighs 3, in the lead (600 characters after it) 2, else 1
    article = np.repeat(np.arange(len(rows)), counts)
    title_len = np.array([len(r[2]) if r[2] is not None else -1 for r in rows], np.int64)
    lead = np.maximum(title_len, 0) + 600
    weights = np.add.reduceat(
        np.where(ends <= title_len[article], 3, np.where(starts < lead[article], 2, 1)),
        bounds[:-1]).tolist()
    span_ids = [entity_ids[k] for k in entity_k.tolist()]
    span_names = [names[k] for k in entity_k.tolist()]
    starts_, ends_, bounds_ = starts.tolist(), ends.tolist(), bounds.tolist()
    articles = []
    for i, (aid, story, title, outlet, url, seed_file, published, seen, text, language,
            n) in enumerate(rows):
        lo, hi = bounds_[i], bounds_[i + 1]
        entities = Counter(span_names[lo:hi])
        articles.append(DigestArticle(
            aid, story, title, outlet, url, seed_file, utc(published), utc(seen),
            mentions=n, text=text, language=language, weight=weights[i],
            entities=sorted(entities.items(), key=lambda c: (-c[1], c[0])),
            spans=list(map(Span, span_ids[lo:hi], starts_[lo:hi], ends_[lo:hi]))))
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
    starts = {row[0]: (utc(row[1]), *row[2:]) for row in con.execute(
        "SELECT story_id, epoch_us(began_at), first_article_id, earlier, first_title,"
        " first_outlet, first_url FROM digest_story_starts(?, ?, ?, day_of := ?)",
        [list(day_rows), day, tz, day_of]).fetchall()}
    rows = []
    for story_id, group in day_rows.items():
        began, first_id, earlier, title, outlet, url = starts[story_id]
        lead = group[0]  # the day's articles come most concerned, then earliest, first
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
        "SELECT article_id, story_id, epoch_us(first_seen_at) FROM articles"
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
        [utc(min(seen for _, _, seen in earlier)), list(story_of)]).fetchall()
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

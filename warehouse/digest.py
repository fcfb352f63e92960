"""The digest's data, read from the warehouse with the digest_* macros of schema/.

Querying lives here, rendering in newswatch.digest: the digest can be
rebuilt from SQL alone, and analysts can run the same macros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from newswatch.extractors.records import Mention


@dataclass
class DigestArticle:
    """One article first seen on the digest's day, with what it mentions."""

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
    entities: list[tuple[str, int]] = field(default_factory=list)  # (name, mentions)
    spans: list[Mention] = field(default_factory=list)
    # the first article of its group of copies (itself when it is no copy)
    copy_root: str = ""
    # the earlier article this one copies or continues
    earlier: Earlier | None = None
    # its quotes with a speaker, the most telling first: (speaker, quote)
    quotes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Earlier:
    """The earlier article a digest article copies or continues."""

    relation: str            # "copy" or "follow_up"
    title: str | None
    outlet: str | None
    first_seen_at: datetime
    url: str | None


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


@dataclass
class DigestData:
    """Everything the digest of one day needs, read in one go."""

    articles: list[DigestArticle]
    attention: list[Attention]
    names: list[NewName]


def digest_data(con: duckdb.DuckDBPyConnection, day: date, tz: str) -> DigestData:
    """The digest's rows for `day` in time zone `tz`; rendering is another module's job."""
    return DigestData(new_articles(con, day, tz), attention(con, day, tz),
                      new_names(con, day, tz))


def new_articles(con: duckdb.DuckDBPyConnection, day: date, tz: str) -> list[DigestArticle]:
    """Articles first seen on `day` (in time zone `tz`) that mention watched entities,
    the most concerned first (mentions in the headline and lead weigh more)."""
    rows = con.execute(
        "SELECT d.article_id, d.story_id, d.title, d.outlet, d.url, d.seed_file,"
        " d.published_at, d.first_seen_at, d.mentions, a.text"
        " FROM digest_new_articles(?, ?) d JOIN digest_day_articles(?, ?) a USING (article_id)"
        " ORDER BY d.weight DESC, d.first_seen_at, d.article_id",
        [day, tz, day, tz],
    ).fetchall()
    articles = {r[0]: DigestArticle(*r[:9], text=r[9]) for r in rows}
    if not articles:
        return []
    for aid, name, count in con.execute(
        "SELECT article_id, name, mentions FROM digest_article_entities(?, ?)", [day, tz]
    ).fetchall():
        articles[aid].entities.append((name, count))
    for aid, eid, surface, start, end, sentence in con.execute(
        "SELECT m.article_id, m.entity_id, m.surface, m.start_char, m.end_char, m.sentence"
        " FROM mentions m JOIN digest_day_articles(?, ?) a USING (article_id)"
        " ORDER BY m.article_id, m.start_char",
        [day, tz],
    ).fetchall():
        articles[aid].spans.append(Mention(eid, surface, start, end, sentence))
    for aid, speaker, quote in con.execute(
        "SELECT article_id, speaker, quote FROM digest_quotes(?, ?) WHERE rank <= 3"
        " ORDER BY article_id, rank", [day, tz]
    ).fetchall():
        if aid in articles:
            articles[aid].quotes.append((speaker, quote))
    _link_stories(con, articles)
    return list(articles.values())


def _link_stories(con: duckdb.DuckDBPyConnection, articles: dict[str, DigestArticle]) -> None:
    """Fill each article's copy group and the earlier article it copies or continues.

    A copy of a copy belongs to the first: the copy links are followed from
    the day's articles, one query per hop (a hop or two in practice), rather
    than read for whole stories, which meant a scan of every article.
    """
    copy_of: dict[str, str] = {}
    for aid, related, *earlier in con.execute(
        "SELECT l.article_id, l.related_article_id,"
        " l.relation, r.title, r.outlet, r.first_seen_at, r.url"
        " FROM story_links l JOIN articles r ON r.article_id = l.related_article_id"
        " WHERE l.article_id IN (SELECT unnest(?::VARCHAR[]))", [list(articles)]).fetchall():
        articles[aid].earlier = Earlier(*earlier)
        if articles[aid].earlier.relation == "copy":
            copy_of[aid] = related
    frontier = set(copy_of.values()) - copy_of.keys()
    for _ in range(100):  # articles already asked are not asked again; 100 hops at most
        if not frontier:
            break
        hops = dict(con.execute(
            "SELECT article_id, related_article_id FROM story_links"
            " WHERE relation = 'copy' AND article_id IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(frontier)]).fetchall())
        copy_of.update(hops)
        frontier = set(hops.values()) - copy_of.keys()
    for aid, article in articles.items():
        root, hops = aid, 0
        while root in copy_of and hops < 100:
            root, hops = copy_of[root], hops + 1
        article.copy_root = root


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


@dataclass(frozen=True)
class Attention:
    """Mentions of one entity on the day against the mean of the 7 days before."""

    entity_id: str
    name: str
    today: int
    trailing_mean: float
    spike: bool
    new_entrant: bool


def attention(con: duckdb.DuckDBPyConnection, day: date, tz: str) -> list[Attention]:
    """The digest_attention macro's rows (009_digest_day_ranges.sql)."""
    return [Attention(*row) for row in con.execute(
        "SELECT entity_id, name, today, trailing_mean, spike, new_entrant"
        " FROM digest_attention(?, ?)", [day, tz]).fetchall()]


def new_names(
    con: duckdb.DuckDBPyConnection, day: date, tz: str, limit: int = 10
) -> list[NewName]:
    """People first named next to watched entities on `day`, most mentioned first
    (the digest_new_names macro of 009_digest_day_ranges.sql, new ones only)."""
    return [NewName(*row) for row in con.execute(
        "SELECT name, mentions, articles, first_seen, is_new, first_sentence, first_title,"
        " first_outlet FROM digest_new_names(?, ?) WHERE is_new LIMIT ?",
        [day, tz, limit]).fetchall()]

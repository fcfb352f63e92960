"""Sources in the warehouse: their configuration, their polling state, the links seen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb

from .bulk import stage

if TYPE_CHECKING:
    from newswatch.extractors.feeds import Link
    from newswatch.extractors.sources import Source


@dataclass
class SourceState:
    source_id: str
    feed_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.next_poll_at is None or self.next_poll_at <= now


def sync_sources(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> None:
    """Add new sources and update the name, kind and URL of known ones; state is kept."""
    for s in sources:
        con.execute(
            "INSERT INTO sources (source_id, name, kind, url) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source_id) DO UPDATE SET name = excluded.name,"
            " kind = excluded.kind, url = excluded.url",
            [s.source_id, s.name, s.kind, s.url])


def source_states(con: duckdb.DuckDBPyConnection) -> dict[str, SourceState]:
    rows = con.execute(
        "SELECT source_id, feed_url, etag, last_modified, last_ok_at, last_error,"
        " consecutive_failures, next_poll_at FROM sources").fetchall()
    return {r[0]: SourceState(*r) for r in rows}


def record_poll(
    con: duckdb.DuckDBPyConnection, source_id: str, *, outcome: str, error: str | None,
    etag: str | None, last_modified: str | None, feed_url: str | None, items: int,
    new_links: int, interval: timedelta, now: datetime | None = None,
    max_backoff: timedelta = timedelta(hours=24),
) -> SourceState:
    """Update a source after a poll; a failure backs it off exponentially."""
    now = now or datetime.now(UTC)
    ok = outcome in ("ok", "not_modified")
    state = source_states(con)[source_id]
    failures = 0 if ok else state.consecutive_failures + 1
    # after n failures in a row, wait interval * 2^(n-1) (capped) before the next try
    next_poll = None if ok else now + min(interval * 2 ** (failures - 1), max_backoff)
    con.execute(
        "UPDATE sources SET last_polled_at = ?, last_outcome = ?, last_error = ?,"
        " consecutive_failures = ?, next_poll_at = ?,"
        " last_ok_at = CASE WHEN ? THEN ? ELSE last_ok_at END,"
        " etag = CASE WHEN ? THEN ? ELSE etag END,"
        " last_modified = CASE WHEN ? THEN ? ELSE last_modified END,"
        " feed_url = coalesce(?, feed_url),"
        " items_seen = items_seen + ?, links_new = links_new + ? WHERE source_id = ?",
        [now, outcome, error, failures, next_poll, ok, now, outcome == "ok", etag,
         outcome == "ok", last_modified, feed_url, items, new_links, source_id])
    return source_states(con)[source_id]


def record_links(
    con: duckdb.DuckDBPyConnection, source_id: str, links: Sequence[Link],
    accepted: Sequence[bool], *, now: datetime | None = None,
) -> list[str]:
    """Remember the links a source listed; return the accepted ones never seen before
    (by this or any source) and not already fetched. What to ingest is
    `pending_links`: these and any an earlier poll left undone."""
    now = now or datetime.now(UTC)
    if not links:
        return []
    stage(con, "stage_links", "source_links",
          [(source_id, link.url, link.title, link.published_at, now, ok)
           for link, ok in zip(links, accepted, strict=True)])
    new = [r[0] for r in con.execute(
        "SELECT s.url FROM stage_links s WHERE s.accepted"
        " AND NOT EXISTS (SELECT 1 FROM source_links l WHERE l.url = s.url AND l.accepted)"
        " AND NOT EXISTS (SELECT 1 FROM fetches f WHERE f.url = s.url)"
        " AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.url = s.url OR a.canonical_url = s.url)"
        " QUALIFY row_number() OVER (PARTITION BY s.url) = 1").fetchall()]
    con.execute(
        "INSERT INTO source_links SELECT s.* FROM stage_links s WHERE NOT EXISTS"
        " (SELECT 1 FROM source_links l WHERE l.source_id = s.source_id AND l.url = s.url)"
        " QUALIFY row_number() OVER (PARTITION BY s.url) = 1")
    # a link listed before outside the window, now taken (a backfill): accepted
    con.execute(
        "UPDATE source_links l SET accepted = true FROM stage_links s"
        " WHERE l.source_id = s.source_id AND l.url = s.url AND s.accepted AND NOT l.accepted")
    con.execute("DROP TABLE stage_links")
    return new


def pending_links(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Accepted links not done yet, oldest listed first.

    A link is done when its page is loaded (a `fetches` row, written in the
    batch's transaction with its article) or refused with a recorded reason
    (a `rejects` row). Until then it stays pending, so a poll killed or
    blocked by a lock mid-ingest is resumed by the next one.
    """
    return [r[0] for r in con.execute(
        "SELECT l.url FROM source_links l WHERE l.accepted"
        " AND NOT EXISTS (SELECT 1 FROM fetches f WHERE f.url = l.url)"
        " AND NOT EXISTS (SELECT 1 FROM rejects r WHERE r.item = l.url)"
        " AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.url = l.url OR a.canonical_url = l.url)"
        " GROUP BY l.url ORDER BY min(l.first_seen_at), l.url").fetchall()]

-- 004: polled sources and the links they listed.

-- One row per configured source, with its polling state.
CREATE TABLE sources (
    source_id            VARCHAR PRIMARY KEY,  -- the canonical URL of the source
    name                 VARCHAR NOT NULL,
    kind                 VARCHAR NOT NULL,     -- feed, sitemap or site
    url                  VARCHAR NOT NULL,
    feed_url             VARCHAR,              -- for a site: the feed discovered on it
    etag                 VARCHAR,
    last_modified        VARCHAR,
    last_polled_at       TIMESTAMPTZ,
    last_ok_at           TIMESTAMPTZ,
    last_outcome         VARCHAR,              -- ok, not_modified, http_error, not_xml, ...
    last_error           VARCHAR,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at         TIMESTAMPTZ,          -- a failing source is backed off until then
    items_seen           BIGINT NOT NULL DEFAULT 0,  -- links listed, over all polls
    links_new            BIGINT NOT NULL DEFAULT 0   -- links that were new and passed the filters
);

-- Every link a source listed, once per source: how a poll knows what is new.
CREATE TABLE source_links (
    source_id     VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,            -- canonical
    title         VARCHAR,
    published_at  TIMESTAMPTZ,
    first_seen_at TIMESTAMPTZ NOT NULL,
    accepted      BOOLEAN NOT NULL             -- passed the source's filters (and window)
);

-- 003: fetching pages from the web.

-- One row per HTTP attempt: each retry and each redirect hop is a row; the
-- last attempt of a URL's fetch carries the outcome of the whole fetch.
-- A URL refused before any request (robots.txt, a private address) is one
-- row with attempt 0.
CREATE TABLE fetches (
    url           VARCHAR NOT NULL,         -- as asked, after canonicalisation
    final_url     VARCHAR,                  -- the URL this attempt requested
    attempt       INTEGER NOT NULL,         -- 1, 2, ... within this fetch of the URL
    status        INTEGER,                  -- HTTP status; null when there was no answer
    outcome       VARCHAR NOT NULL,         -- last attempt: ok, not_modified, http_error,
                                            -- timeout, too_large, ...; earlier: retried, redirected
    error         VARCHAR,                  -- a readable reason, when there is one
    bytes         BIGINT,
    elapsed       DOUBLE,                   -- seconds: this attempt; the last row: the whole fetch
    etag          VARCHAR,
    last_modified VARCHAR,
    content_type  VARCHAR,
    encoding      VARCHAR,
    article_id    VARCHAR,                  -- the article the page became, if it did
    fetched_at    TIMESTAMPTZ NOT NULL
);

-- The raw HTML of every page fetched with a body (articles or not),
-- zlib-compressed: `newswatch reprocess` re-extracts from here, no re-fetching.
CREATE TABLE raw_pages (
    url           VARCHAR NOT NULL,
    final_url     VARCHAR,
    sha256        VARCHAR NOT NULL,         -- of the raw bytes: a page's versions are kept once each
    encoding      VARCHAR,
    content_type  VARCHAR,
    raw_size      BIGINT NOT NULL,
    raw_zlib      BLOB NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL
);

-- What a conditional request needs: the validators of each URL's latest good fetch.
CREATE VIEW fetch_validators AS
SELECT url, etag, last_modified, fetched_at
FROM fetches
WHERE outcome = 'ok' AND (etag IS NOT NULL OR last_modified IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1;

-- 001: the stable tables of DESIGN.md. Analysts' SQL depends on these names:
-- change them only through a new numbered migration.

-- Raw layer: every document as it came in (a seed file's text, a page's
-- HTML), zlib-compressed, so a better extractor or watchlist can re-process
-- history without re-fetching.
CREATE TABLE raw_documents (
    article_id   VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,          -- 'seed_file' or 'html'
    encoding     VARCHAR,                   -- the charset the bytes were decoded with
    raw_size     BIGINT NOT NULL,           -- bytes before compression
    raw_zlib     BLOB NOT NULL,
    stored_at    TIMESTAMPTZ NOT NULL
);

-- The watchlist as it was last loaded.
CREATE TABLE entities (
    entity_id    VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,          -- ORG, GPE, PERSON, LOC
    aliases      VARCHAR[] NOT NULL,        -- every name form the tagger matches
    demonyms     VARCHAR[] NOT NULL         -- counted apart, in demonym_mentions
);

CREATE TABLE articles (
    article_id    VARCHAR PRIMARY KEY,
    url           VARCHAR,                  -- null for a seed file
    canonical_url VARCHAR,
    seed_file     VARCHAR,                  -- null for a fetched page
    title         VARCHAR,
    outlet        VARCHAR,
    author        VARCHAR,
    published_at  TIMESTAMPTZ,
    first_seen_at TIMESTAMPTZ NOT NULL,
    language      VARCHAR,
    text          VARCHAR NOT NULL,         -- headline, standfirst and body, no boilerplate
    content_hash  VARCHAR NOT NULL,         -- sha256 of the normalised text
    story_id      VARCHAR NOT NULL          -- articles of one story share it
);

-- One row per mention of a watched entity by name; offsets index articles.text.
CREATE TABLE mentions (
    article_id   VARCHAR NOT NULL,
    entity_id    VARCHAR NOT NULL,
    surface      VARCHAR NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    sentence     VARCHAR NOT NULL
);

-- Demonyms and metonyms (Kazakh, Kremlin, Moscow), counted apart from mentions.
CREATE TABLE demonym_mentions (
    article_id   VARCHAR NOT NULL,
    entity_id    VARCHAR NOT NULL,
    surface      VARCHAR NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    sentence     VARCHAR NOT NULL
);

-- Inputs that could not be ingested, with the reason: nothing is dropped silently.
CREATE TABLE rejects (
    item         VARCHAR NOT NULL,          -- a file path or a URL
    stage        VARCHAR NOT NULL,          -- read, extract, tag, load
    reason       VARCHAR NOT NULL,          -- a short code: empty, not_utf8, too_large, ...
    detail       VARCHAR,
    recorded_at  TIMESTAMPTZ NOT NULL
);

-- One row per built digest (recipient null) and per delivery.
CREATE TABLE digests (
    digest_date  DATE NOT NULL,
    recipient    VARCHAR,
    status       VARCHAR NOT NULL,          -- built, dry_run, sent, failed
    stories      INTEGER,
    path         VARCHAR,
    error        VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);

-- Mentions per article and entity: the first thing most questions need.
CREATE VIEW article_entities AS
SELECT m.article_id, m.entity_id, e.name, e.kind, count(*) AS mentions
FROM mentions m JOIN entities e USING (entity_id)
GROUP BY ALL;

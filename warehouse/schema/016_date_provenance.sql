-- 016: where each article's publication date came from, every date seen for it,
-- and whether those dates disagree by more than a day.
--
--   SELECT a.title, a.published_at, a.published_source, d.source, d.published_at
--   FROM articles a JOIN article_dates d USING (article_id) WHERE a.dates_disagree;
ALTER TABLE articles ADD COLUMN published_source VARCHAR;  -- json_ld, meta, time, url, text,
                                                           -- manifest, feed, first_seen
ALTER TABLE articles ADD COLUMN dates_disagree BOOLEAN;    -- null: loaded before 016
-- the articles loaded before 016 say "unknown" until `newswatch reprocess` reads them again
UPDATE articles SET published_source = CASE WHEN published_at IS NULL THEN 'first_seen'
                                            ELSE 'unknown' END;

-- Every publication date seen for an article, one row per source and time.
CREATE TABLE article_dates (
    article_id   VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);

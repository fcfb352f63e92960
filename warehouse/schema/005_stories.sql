-- 005: stories. Near-duplicates (syndicated copies) and follow-ups share
-- articles.story_id; story_links says how each joined, and to which article.

-- What dedup keeps of each article (see newswatch.extractors.dedup).
CREATE TABLE article_fingerprints (
    article_id    VARCHAR PRIMARY KEY,
    simhash       BIGINT NOT NULL,          -- 64-bit Simhash, stored signed
    sketch        BIGINT[] NOT NULL,        -- bottom-k MinHash of word 5-grams
    entity_ids    VARCHAR[] NOT NULL,
    entity_counts INTEGER[] NOT NULL
);

-- How an article joined an earlier story: as a copy or as a follow-up.
CREATE TABLE story_links (
    article_id         VARCHAR NOT NULL,
    relation           VARCHAR NOT NULL,    -- copy, follow_up
    related_article_id VARCHAR NOT NULL,    -- the earlier article it copies or continues
    score              DOUBLE NOT NULL,
    linked_at          TIMESTAMPTZ NOT NULL
);

-- One row per story: when it was first and last seen, by whom.
CREATE VIEW stories AS
SELECT story_id,
       count(*) AS articles,
       arg_min(title, coalesce(published_at, first_seen_at)) AS title,
       min(first_seen_at) AS first_seen_at,
       max(first_seen_at) AS last_seen_at,
       list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlets
FROM articles
GROUP BY story_id;

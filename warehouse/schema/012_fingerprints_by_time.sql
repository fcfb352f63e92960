-- 012: article_fingerprints keeps its article's first_seen_at, in time order,
-- and no key index. Story matching reads the fingerprints of the last hours:
-- the column's min-max index finds them without reading every sketch, as the
-- key index did, while a key index on these wide rows cost each commit's
-- checkpoint ~0.2 s in a warehouse of 1M articles (DuckDB 2.0; see 011).
-- article_id stays unique: a fingerprint is added with its article, once.
CREATE TABLE article_fingerprints_012 (
    article_id    VARCHAR NOT NULL,
    simhash       BIGINT NOT NULL,          -- 64-bit Simhash, stored signed
    sketch        BIGINT[] NOT NULL,        -- bottom-k MinHash of word 5-grams
    entity_ids    VARCHAR[] NOT NULL,
    entity_counts INTEGER[] NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL      -- the article's
);
INSERT INTO article_fingerprints_012
SELECT f.*, a.first_seen_at FROM article_fingerprints f JOIN articles a USING (article_id)
ORDER BY a.first_seen_at;
DROP TABLE article_fingerprints;
ALTER TABLE article_fingerprints_012 RENAME TO article_fingerprints;

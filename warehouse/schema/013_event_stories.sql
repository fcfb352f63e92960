-- 013: stories by event. Story matching (newswatch.stories, called by the flows
-- before loading) compares an article's copy fingerprint and its weighted terms
-- with those of the recent articles; every decision is one story_links row that
-- says how the article joined, how close it was and which shared terms weighed
-- most. Existing rows keep their meaning; old "follow_up" links stay as they are.

-- Copies are found by the sketch alone now: the Simhash and entity columns go.
ALTER TABLE article_fingerprints DROP COLUMN simhash;
ALTER TABLE article_fingerprints DROP COLUMN entity_ids;
ALTER TABLE article_fingerprints DROP COLUMN entity_counts;

-- What event matching compares, per article, in time order (no key index, as 012):
-- every term's 64-bit hash, its weight (occurrences; headline and lead count
-- more) and how common it is in everyday language (0..1).
CREATE TABLE article_terms (
    article_id    VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,     -- the article's
    hashes        BIGINT[] NOT NULL,
    weights       FLOAT[] NOT NULL,
    commonness    FLOAT[] NOT NULL
);

-- One row per decision, the first article of a story too (relation "new").
ALTER TABLE story_links ALTER COLUMN related_article_id DROP NOT NULL;
ALTER TABLE story_links ADD COLUMN story_id VARCHAR;
-- the shared terms that weighed most, with their share of the score
ALTER TABLE story_links ADD COLUMN evidence STRUCT(term VARCHAR, kind VARCHAR, share DOUBLE)[];
-- the sentence that says what the article adds to its story
ALTER TABLE story_links ADD COLUMN development VARCHAR;
UPDATE story_links SET story_id = a.story_id FROM articles a
WHERE a.article_id = story_links.article_id;

-- One row per story: its articles, when it began and when it was last reported
-- (publication dates; first seen where a page gives none), its outlets.
CREATE OR REPLACE VIEW stories AS
SELECT story_id,
       count(*) AS articles,
       arg_min(title, (coalesce(published_at, first_seen_at), first_seen_at)) AS title,
       min(first_seen_at) AS first_seen_at,
       max(first_seen_at) AS last_seen_at,
       list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlets,
       min(coalesce(published_at, first_seen_at)) AS began_at,
       max(coalesce(published_at, first_seen_at)) AS latest_at
FROM articles
GROUP BY story_id;

-- A story's articles in publication order, each with how it joined and what it
-- added:   SELECT * FROM story_timeline('5c2a0c6e9f3d41b7');
CREATE OR REPLACE MACRO story_timeline(id) AS TABLE
SELECT coalesce(a.published_at, a.first_seen_at) AS published_at, a.outlet, a.title,
       coalesce(l.relation, CASE WHEN a.article_id = a.story_id THEN 'new' END) AS relation,
       l.development, l.related_article_id, l.score, l.evidence, a.url, a.seed_file,
       a.article_id
FROM articles a LEFT JOIN story_links l USING (article_id)
WHERE a.story_id = id
ORDER BY coalesce(a.published_at, a.first_seen_at), a.first_seen_at, a.article_id;

-- Why an article is in its story: the link and the terms that weighed most.
--   SELECT * FROM story_evidence('9f1e...') ORDER BY share DESC;
CREATE OR REPLACE MACRO story_evidence(id) AS TABLE
SELECT l.article_id, l.relation, l.related_article_id, l.score, e.term, e.kind, e.share
FROM story_links l, unnest(l.evidence) AS t(e)
WHERE l.article_id = id;

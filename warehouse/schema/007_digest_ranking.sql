-- 007: the digest ranks articles by how much they concern the watchlist:
-- a mention in the headline weighs 3, in the lead (the first 600 characters
-- after it) 2, elsewhere 1. Adds the column `weight`; the rest is as in 002.
CREATE OR REPLACE MACRO digest_new_articles(d, tz) AS TABLE
SELECT a.article_id, a.story_id, a.title, a.outlet, a.url, a.seed_file,
       a.published_at, a.first_seen_at,
       count(*) AS mentions,
       count(DISTINCT m.entity_id) AS entities,
       sum(CASE WHEN a.title IS NOT NULL AND m.end_char <= length(a.title) THEN 3
                WHEN m.start_char < coalesce(length(a.title), 0) + 600 THEN 2
                ELSE 1 END) AS weight
FROM articles a
JOIN mentions m USING (article_id)
WHERE CAST(timezone(tz, a.first_seen_at) AS DATE) = d
GROUP BY ALL
ORDER BY weight DESC, a.first_seen_at, a.article_id;

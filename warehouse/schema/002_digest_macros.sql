-- 002: the digest's queries, as table macros analysts can run themselves:
--   SELECT * FROM digest_new_articles(DATE '2022-01-13', 'Asia/Almaty');
-- A day is a calendar day in the given time zone.

-- Articles first seen on day `d` that mention at least one watched entity,
-- the most concerned first.
CREATE OR REPLACE MACRO digest_new_articles(d, tz) AS TABLE
SELECT a.article_id, a.story_id, a.title, a.outlet, a.url, a.seed_file,
       a.published_at, a.first_seen_at,
       count(*) AS mentions,
       count(DISTINCT m.entity_id) AS entities
FROM articles a
JOIN mentions m USING (article_id)
WHERE CAST(timezone(tz, a.first_seen_at) AS DATE) = d
GROUP BY ALL
ORDER BY mentions DESC, a.first_seen_at, a.article_id;

-- Mentions per entity in each of those articles.
CREATE OR REPLACE MACRO digest_article_entities(d, tz) AS TABLE
SELECT m.article_id, m.entity_id, e.name, e.kind, count(*) AS mentions
FROM articles a
JOIN mentions m USING (article_id)
JOIN entities e USING (entity_id)
WHERE CAST(timezone(tz, a.first_seen_at) AS DATE) = d
GROUP BY ALL
ORDER BY m.article_id, mentions DESC, e.name;

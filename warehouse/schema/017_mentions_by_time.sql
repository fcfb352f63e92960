-- 017: each mention carries its article's first_seen_at, so a day's mentions are
-- found by DuckDB's zone maps instead of a join over the whole table (article
-- ids are hashes: no row group could be skipped by them). Loads append mentions
-- in the order articles arrive, so a day is a row group or two. On a year of
-- news (10M mentions) the digest's reads of the day's mentions went from a scan
-- of every row to the day's. Same macros, same columns, same answers.
ALTER TABLE mentions ADD COLUMN first_seen_at TIMESTAMPTZ;   -- the article's
UPDATE mentions SET first_seen_at = a.first_seen_at FROM articles a
WHERE a.article_id = mentions.article_id;

-- The mentions of day d's articles (in tz). By first_seen they are read by time,
-- pruned by zone maps; by publication day they are every article's (the join
-- with the day's articles picks them).
--   SELECT entity_id, count(*) FROM digest_day_mentions(DATE '2022-01-13', 'Asia/Almaty')
--   GROUP BY entity_id;
CREATE OR REPLACE MACRO digest_day_mentions(d, tz, day_of := 'first_seen') AS TABLE
SELECT m.* FROM mentions m
JOIN digest_day_articles(d, tz, day_of := day_of) a USING (article_id)
WHERE day_of = 'published'
   OR (m.first_seen_at >= digest_day_start(d, tz)
       AND m.first_seen_at < digest_day_start(CAST(d AS DATE) + 1, tz));

CREATE OR REPLACE MACRO digest_new_articles(d, tz, day_of := 'first_seen') AS TABLE
SELECT a.article_id, a.story_id, a.title, a.outlet, a.url, a.seed_file,
       a.published_at, a.first_seen_at,
       count(*) AS mentions,
       count(DISTINCT m.entity_id) AS entities,
       sum(CASE WHEN a.title IS NOT NULL AND m.end_char <= length(a.title) THEN 3
                WHEN m.start_char < coalesce(length(a.title), 0) + 600 THEN 2
                ELSE 1 END) AS weight
FROM digest_day_articles(d, tz, day_of := day_of) a
JOIN digest_day_mentions(d, tz, day_of := day_of) m USING (article_id)
GROUP BY ALL
ORDER BY weight DESC, a.first_seen_at, a.article_id;

CREATE OR REPLACE MACRO digest_article_entities(d, tz, day_of := 'first_seen') AS TABLE
SELECT m.article_id, m.entity_id, e.name, e.kind, count(*) AS mentions
FROM digest_day_mentions(d, tz, day_of := day_of) m
JOIN entities e USING (entity_id)
GROUP BY ALL
ORDER BY m.article_id, mentions DESC, e.name;

-- By first_seen, the mentions of the 8 days alone say it (no join, no time zone
-- conversion per row: the day and the 7 before are two ranges of first_seen_at).
CREATE OR REPLACE MACRO digest_attention(d, tz, day_of := 'first_seen') AS TABLE
WITH daily AS (
    SELECT entity_id,
           CASE WHEN first_seen_at >= digest_day_start(d, tz) THEN CAST(d AS DATE)
                ELSE CAST(d AS DATE) - 1 END AS day,
           count(*) AS n
    FROM mentions
    WHERE day_of <> 'published'
      AND first_seen_at >= digest_day_start(CAST(d AS DATE) - 7, tz)
      AND first_seen_at < digest_day_start(CAST(d AS DATE) + 1, tz)
    GROUP BY ALL
    UNION ALL
    SELECT m.entity_id, digest_article_day(a.published_at, a.first_seen_at, tz, day_of := day_of) AS day,
           count(*) AS n
    FROM mentions m JOIN (
        SELECT article_id, published_at, first_seen_at FROM articles
        WHERE day_of = 'published'
          AND coalesce(published_at, first_seen_at) >= digest_day_start(CAST(d AS DATE) - 7, tz)
          AND coalesce(published_at, first_seen_at) < digest_day_start(CAST(d AS DATE) + 1, tz)
    ) a USING (article_id)
    GROUP BY ALL
), totals AS (
    SELECT entity_id,
           coalesce(sum(n) FILTER (WHERE day = d), 0) AS today,
           coalesce(sum(n) FILTER (WHERE day < d), 0) / 7.0 AS trailing_mean
    FROM daily GROUP BY entity_id
)
SELECT e.entity_id, e.name, t.today, round(t.trailing_mean, 2) AS trailing_mean,
       t.today >= greatest(3, 2 * t.trailing_mean) AS spike,
       t.today > 0 AND t.trailing_mean = 0 AS new_entrant
FROM totals t JOIN entities e USING (entity_id)
WHERE t.today > 0 OR t.trailing_mean > 0
ORDER BY t.today DESC, e.name;

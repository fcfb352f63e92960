-- 014: the digest by story, and by either day: every digest macro takes
-- `day_of := 'first_seen'` (the daily mail: what arrived that day) or
-- `day_of := 'published'` (history and backfills: what was published that day; an
-- article with no publication date counts on the day it was first seen).
--   SELECT * FROM digest_stories(DATE '2022-01-13', 'Asia/Almaty', day_of := 'published');

-- The articles of day d (in tz). By first_seen, DuckDB's zone maps prune the
-- scan (see 009); the other branch folds away, `day_of` being a constant.
CREATE OR REPLACE MACRO digest_day_articles(d, tz, day_of := 'first_seen') AS TABLE
SELECT * FROM articles
WHERE (day_of = 'published'
       AND coalesce(published_at, first_seen_at) >= digest_day_start(d, tz)
       AND coalesce(published_at, first_seen_at) < digest_day_start(CAST(d AS DATE) + 1, tz))
   OR (day_of <> 'published'
       AND first_seen_at >= digest_day_start(d, tz)
       AND first_seen_at < digest_day_start(CAST(d AS DATE) + 1, tz));

-- An article's day as `day_of` counts it.
CREATE OR REPLACE MACRO digest_article_day(published_at, first_seen_at, tz, day_of := 'first_seen') AS
CAST(timezone(tz, CASE WHEN day_of = 'published' THEN coalesce(published_at, first_seen_at)
                       ELSE first_seen_at END) AS DATE);

CREATE OR REPLACE MACRO digest_new_articles(d, tz, day_of := 'first_seen') AS TABLE
SELECT a.article_id, a.story_id, a.title, a.outlet, a.url, a.seed_file,
       a.published_at, a.first_seen_at,
       count(*) AS mentions,
       count(DISTINCT m.entity_id) AS entities,
       sum(CASE WHEN a.title IS NOT NULL AND m.end_char <= length(a.title) THEN 3
                WHEN m.start_char < coalesce(length(a.title), 0) + 600 THEN 2
                ELSE 1 END) AS weight
FROM digest_day_articles(d, tz, day_of := day_of) a
JOIN mentions m USING (article_id)
GROUP BY ALL
ORDER BY weight DESC, a.first_seen_at, a.article_id;

-- One row per story with new articles on day d that mention watched entities: the
-- digest's entries, most concerned first. `began_at` is the story's first article
-- (publication date, else first seen); a story that began before the day is a
-- development, and `earlier` counts its articles before the day.
CREATE OR REPLACE MACRO digest_stories(d, tz, day_of := 'first_seen') AS TABLE
WITH day AS (
    SELECT story_id, count(*) AS articles, sum(weight) AS weight, sum(mentions) AS mentions,
           list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlets,
           arg_max(title, (weight, -epoch(first_seen_at))) AS headline
    FROM digest_new_articles(d, tz, day_of := day_of)
    GROUP BY story_id
), story AS (
    SELECT a.story_id,
           min(coalesce(a.published_at, a.first_seen_at)) AS began_at,
           arg_min(a.article_id, (coalesce(a.published_at, a.first_seen_at), a.first_seen_at))
               AS first_article_id,
           count(*) FILTER (WHERE (CASE WHEN day_of = 'published'
                                        THEN coalesce(a.published_at, a.first_seen_at)
                                        ELSE a.first_seen_at END)
                                  < digest_day_start(d, tz)) AS earlier
    FROM articles a
    WHERE a.story_id IN (SELECT story_id FROM day)
    GROUP BY a.story_id
)
SELECT d.story_id, d.headline, d.articles, d.outlets, d.mentions, d.weight, s.began_at,
       s.first_article_id, s.earlier, s.earlier > 0 AS development
FROM day d JOIN story s USING (story_id)
ORDER BY d.weight DESC, d.story_id;

CREATE OR REPLACE MACRO digest_article_entities(d, tz, day_of := 'first_seen') AS TABLE
SELECT m.article_id, m.entity_id, e.name, e.kind, count(*) AS mentions
FROM digest_day_articles(d, tz, day_of := day_of) a
JOIN mentions m USING (article_id)
JOIN entities e USING (entity_id)
GROUP BY ALL
ORDER BY m.article_id, mentions DESC, e.name;

CREATE OR REPLACE MACRO digest_attention(d, tz, day_of := 'first_seen') AS TABLE
WITH daily AS (
    SELECT m.entity_id, digest_article_day(a.published_at, a.first_seen_at, tz, day_of := day_of) AS day,
           count(*) AS n
    FROM mentions m JOIN (
        SELECT article_id, published_at, first_seen_at FROM articles
        WHERE (day_of = 'published'
               AND coalesce(published_at, first_seen_at) >= digest_day_start(CAST(d AS DATE) - 7, tz)
               AND coalesce(published_at, first_seen_at) < digest_day_start(CAST(d AS DATE) + 1, tz))
           OR (day_of <> 'published'
               AND first_seen_at >= digest_day_start(CAST(d AS DATE) - 7, tz)
               AND first_seen_at < digest_day_start(CAST(d AS DATE) + 1, tz))
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

CREATE OR REPLACE MACRO digest_quotes(d, tz, day_of := 'first_seen') AS TABLE
SELECT q.article_id, q.speaker, q.quote, q.score,
       row_number() OVER (PARTITION BY q.article_id ORDER BY q.score DESC, q.start_char) AS rank
FROM quotes q JOIN digest_day_articles(d, tz, day_of := day_of) a USING (article_id)
ORDER BY q.article_id, rank;

CREATE OR REPLACE MACRO digest_new_names(d, tz, day_of := 'first_seen') AS TABLE
WITH near AS (
    SELECT p.name, p.sentence, p.start_char, a.article_id, a.title, a.outlet, a.first_seen_at,
           digest_article_day(a.published_at, a.first_seen_at, tz, day_of := day_of) AS day
    FROM person_mentions p JOIN articles a USING (article_id)
    WHERE p.near_watched
      AND (day_of = 'published' OR a.first_seen_at < digest_day_start(CAST(d AS DATE) + 1, tz))
), today AS (
    SELECT name, count(*) AS mentions, count(DISTINCT article_id) AS articles
    FROM near WHERE day = d GROUP BY name
), first AS (
    SELECT name, min(day) AS first_seen,
           arg_min(sentence, (day, first_seen_at, article_id, start_char)) AS first_sentence,
           arg_min(title, (day, first_seen_at, article_id, start_char)) AS first_title,
           arg_min(outlet, (day, first_seen_at, article_id, start_char)) AS first_outlet
    FROM near WHERE name IN (SELECT name FROM today) GROUP BY name
)
SELECT t.name, t.mentions, t.articles, f.first_seen, f.first_seen = d AS is_new,
       f.first_sentence, f.first_title, f.first_outlet
FROM today t JOIN first f USING (name)
ORDER BY is_new DESC, t.mentions DESC, t.name;

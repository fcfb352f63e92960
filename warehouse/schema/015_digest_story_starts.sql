-- The digest reads where each of the day's stories began apart from the day's
-- articles, which it already holds: digest_stories is the same rows as before,
-- with the first article's title, outlet and url beside its id.

-- Where each of some stories began (its first article, by publication date, else
-- first seen: when, which, its title, outlet and url), and how many of its articles
-- came before day d (a story with any is a development on d).
CREATE OR REPLACE MACRO digest_story_starts(story_ids, d, tz, day_of := 'first_seen') AS TABLE
SELECT story_id,
       min(coalesce(published_at, first_seen_at)) AS began_at,
       arg_min(article_id, (coalesce(published_at, first_seen_at), first_seen_at))
           AS first_article_id,
       arg_min(title, (coalesce(published_at, first_seen_at), first_seen_at)) AS first_title,
       arg_min(outlet, (coalesce(published_at, first_seen_at), first_seen_at)) AS first_outlet,
       arg_min(url, (coalesce(published_at, first_seen_at), first_seen_at)) AS first_url,
       count(*) FILTER (WHERE (CASE WHEN day_of = 'published'
                                    THEN coalesce(published_at, first_seen_at)
                                    ELSE first_seen_at END)
                              < digest_day_start(d, tz)) AS earlier
FROM articles
WHERE story_id IN (SELECT unnest(story_ids))
GROUP BY story_id;

-- One row per story with new articles on day d that mention watched entities: the
-- digest's entries, most concerned first, with where each began
-- (digest_story_starts); a story that began before the day is a development.
CREATE OR REPLACE MACRO digest_stories(d, tz, day_of := 'first_seen') AS TABLE
WITH day AS (
    SELECT story_id, count(*) AS articles, sum(weight) AS weight, sum(mentions) AS mentions,
           list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlets,
           arg_max(title, (weight, -epoch(first_seen_at))) AS headline
    FROM digest_new_articles(d, tz, day_of := day_of)
    GROUP BY story_id
)
SELECT d.story_id, d.headline, d.articles, d.outlets, d.mentions, d.weight, s.began_at,
       s.first_article_id, s.earlier, s.earlier > 0 AS development, s.first_title,
       s.first_outlet, s.first_url
FROM day d
JOIN digest_story_starts((SELECT list(story_id) FROM day), d, tz, day_of := day_of) s
    USING (story_id)
ORDER BY d.weight DESC, d.story_id;

-- 008: people the watchlist does not know yet, and quotes with their speaker,
-- read off each article's text at ingest (extractors/people.py) and replaced
-- by `newswatch reprocess`.

-- One row per mention of a person who is not a watched entity. `name` is the
-- fullest form the article gives; `near_watched` is true when the sentence,
-- or one next to it, names a watched entity.
CREATE TABLE person_mentions (
    article_id   VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    surface      VARCHAR NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    sentence     VARCHAR NOT NULL,
    cue          VARCHAR NOT NULL,          -- speech, title, role or same_text
    near_watched BOOLEAN NOT NULL
);

-- Quotations that the text attributes to a speaker; `score` ranks them
-- (watched entities named inside, length, a whole sentence).
CREATE TABLE quotes (
    article_id   VARCHAR NOT NULL,
    speaker      VARCHAR NOT NULL,
    quote        VARCHAR NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    score        DOUBLE NOT NULL
);

-- The quotes of each article first seen on day d, the most telling first
-- (rank 1); the digest shows the best one its summary does not already say:
--   SELECT * FROM digest_quotes(DATE '2022-01-13', 'Asia/Almaty') WHERE rank = 1;
CREATE OR REPLACE MACRO digest_quotes(d, tz) AS TABLE
SELECT q.article_id, q.speaker, q.quote, q.score,
       row_number() OVER (PARTITION BY q.article_id ORDER BY q.score DESC, q.start_char) AS rank
FROM quotes q JOIN articles a USING (article_id)
WHERE CAST(timezone(tz, a.first_seen_at) AS DATE) = d
ORDER BY q.article_id, rank;

-- People named next to watched entities on day d who are not on the watchlist,
-- with their mentions that day and the sentence they first appeared in (on d
-- or before). `is_new` is true for a name never seen before d.
--   SELECT * FROM digest_new_names(DATE '2022-01-13', 'Asia/Almaty');
CREATE OR REPLACE MACRO digest_new_names(d, tz) AS TABLE
WITH near AS (
    SELECT p.name, p.sentence, p.start_char, a.article_id, a.title, a.outlet, a.first_seen_at,
           CAST(timezone(tz, a.first_seen_at) AS DATE) AS day
    FROM person_mentions p JOIN articles a USING (article_id)
    WHERE p.near_watched AND CAST(timezone(tz, a.first_seen_at) AS DATE) <= d
), today AS (
    SELECT name, count(*) AS mentions, count(DISTINCT article_id) AS articles
    FROM near WHERE day = d GROUP BY name
), first AS (
    SELECT name, min(day) AS first_seen,
           arg_min(sentence, (first_seen_at, article_id, start_char)) AS first_sentence,
           arg_min(title, (first_seen_at, article_id, start_char)) AS first_title,
           arg_min(outlet, (first_seen_at, article_id, start_char)) AS first_outlet
    FROM near WHERE name IN (SELECT name FROM today) GROUP BY name
)
SELECT t.name, t.mentions, t.articles, f.first_seen, f.first_seen = d AS is_new,
       f.first_sentence, f.first_title, f.first_outlet
FROM today t JOIN first f USING (name)
ORDER BY is_new DESC, t.mentions DESC, t.name;

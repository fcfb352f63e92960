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

-- Their digest macros, digest_quotes(d, tz) and digest_new_names(d, tz), are in 009.

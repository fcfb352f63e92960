-- 010: staged batches (Parquet files written by distributed workers) that the
-- loader merged, so that merging a file twice changes nothing.
CREATE TABLE IF NOT EXISTS staged_batches (
    name      VARCHAR PRIMARY KEY,   -- the file's name in the staging directory
    pages     INTEGER NOT NULL,
    articles  INTEGER NOT NULL,      -- new articles it brought
    merged_at TIMESTAMPTZ NOT NULL
);

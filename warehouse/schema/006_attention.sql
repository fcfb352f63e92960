-- 006: attention, for the digest and for analysts:
--   SELECT * FROM digest_attention(DATE '2022-01-13', 'Asia/Almaty');
-- Mentions per watched entity on day d against the mean of the 7 days before;
-- a spike is at least twice that mean and at least 3 mentions; a new entrant
-- had none in those 7 days.
CREATE OR REPLACE MACRO digest_attention(d, tz) AS TABLE
WITH daily AS (
    SELECT m.entity_id, CAST(timezone(tz, a.first_seen_at) AS DATE) AS day, count(*) AS n
    FROM mentions m JOIN articles a USING (article_id)
    WHERE CAST(timezone(tz, a.first_seen_at) AS DATE) BETWEEN CAST(d AS DATE) - 7 AND d
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

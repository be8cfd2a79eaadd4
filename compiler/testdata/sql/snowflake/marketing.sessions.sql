WITH "periods" AS (
  SELECT
    DATE_TRUNC('WEEK', started_at) AS "started_at",
    count(*) AS "sessions"
  FROM web_sessions
  WHERE (started_at) >= TO_TIMESTAMP_NTZ(?)
    AND (started_at) < TO_TIMESTAMP_NTZ(?)
  GROUP BY 1
)
SELECT
  "cur"."started_at" AS "started_at",
  "cur"."sessions" AS "sessions",
  "prev"."sessions" AS "sessions_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."started_at" = DATEADD(WEEK, -1, "cur"."started_at")
WHERE "cur"."started_at" IS NOT NULL
  AND "cur"."started_at" >= TO_TIMESTAMP_NTZ(?)
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["2024-12-23 00:00:00","2026-01-01 00:00:00","2024-12-30 00:00:00"]

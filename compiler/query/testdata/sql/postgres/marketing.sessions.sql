WITH "bic_latest" AS (
  SELECT
    date_trunc('week', started_at) AS "bic_period",
    max(started_at) AS "bic_last"
  FROM web_sessions
  WHERE (started_at) >= CAST($1 AS timestamp)
    AND (started_at) < CAST($2 AS timestamp)
    AND (started_at) IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
"bic_bounds" AS (
  SELECT
    "bic_period",
    date_trunc('day', "bic_last") + INTERVAL '1 day' AS "bic_end",
    "bic_period" - INTERVAL '7 day' AS "bic_previous",
    date_trunc('day', "bic_last") - INTERVAL '7 day' + INTERVAL '1 day' AS "bic_previous_end"
  FROM "bic_latest"
),
"bic_periods" AS (
  SELECT
    CASE WHEN (started_at) >= "bic_bounds"."bic_period" THEN 'current' ELSE 'previous' END AS "bic_side",
    count(*) AS "sessions"
  FROM web_sessions
  CROSS JOIN "bic_bounds"
  WHERE (((started_at) >= "bic_bounds"."bic_period" AND (started_at) < "bic_bounds"."bic_end") OR ((started_at) >= "bic_bounds"."bic_previous" AND (started_at) < "bic_bounds"."bic_previous_end"))
  GROUP BY 1
)
SELECT
  "bic_bounds"."bic_period" AS "started_at",
  "cur"."sessions" AS "sessions",
  "prev"."sessions" AS "sessions_previous"
FROM "bic_bounds"
JOIN "bic_periods" AS "cur" ON "cur"."bic_side" = 'current'
LEFT JOIN "bic_periods" AS "prev" ON "prev"."bic_side" = 'previous'
-- args: ["2024-12-30 00:00:00","2026-01-01 00:00:00"]

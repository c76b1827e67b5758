-- Merges two sparse histograms stored as jsonb objects {bucket: count}. Used by the rollup upserts,
-- so concurrent rollup jobs on several replicas add up instead of overwriting each other.
CREATE OR REPLACE FUNCTION hist_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(k, s), '{}'::jsonb)
  FROM (
    SELECT k, sum(v::bigint) AS s
    FROM (SELECT * FROM jsonb_each_text(coalesce(a, '{}'::jsonb))
          UNION ALL
          SELECT * FROM jsonb_each_text(coalesce(b, '{}'::jsonb))) AS t(k, v)
    GROUP BY k
  ) AS x
$$;
--> statement-breakpoint
-- Log-scale histogram bucket of a duration in ms: bucket i covers (0.01·1.02^(i−1), 0.01·1.02^i], so a
-- percentile read back from buckets is within 1 % of the exact value. Must match lib/metrics/histogram.ts.
CREATE OR REPLACE FUNCTION hist_bucket(v double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v IS NULL THEN NULL
              WHEN v <= 0.01 THEN 0
              ELSE ceil(ln(v / 0.01) / ln(1.02))::integer END
$$;

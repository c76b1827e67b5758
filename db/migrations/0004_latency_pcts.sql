-- p50/p95/p99 of a sparse histogram {bucket: count} as `percentiles` in lib/metrics/histogram.ts
-- computes them: nearest rank, rank = max(1, ceil(q·total)) in float8 like JS; the value of the first
-- bucket whose running count reaches the rank, read back as bucketValue does (0.01·1.02^(b−0.5), 0 for
-- b ≤ 0; the two libm pow()s may differ in the last bit). NULL for an empty histogram. Only built-in
-- functions inside: a restore (search_path '') recomputes the generated columns that call it.
CREATE OR REPLACE FUNCTION hist_pcts(h jsonb) RETURNS double precision[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(CASE WHEN b <= 0 THEN 0 ELSE 0.01::float8 * power(1.02::float8, b - 0.5::float8) END
                   ORDER BY i)
    FROM (SELECT array[min(b) FILTER (WHERE seen >= greatest(1, ceil(0.5::float8 * total))),
                       min(b) FILTER (WHERE seen >= greatest(1, ceil(0.95::float8 * total))),
                       min(b) FILTER (WHERE seen >= greatest(1, ceil(0.99::float8 * total)))] AS bs
            FROM (SELECT k::integer AS b,
                         sum(v::float8) OVER (ORDER BY k::integer) AS seen,
                         sum(v::float8) OVER () AS total
                    FROM jsonb_each_text(h) AS t(k, v)
                   WHERE v::float8 > 0) AS cum
          HAVING count(*) > 0) AS ranks,
         unnest(ranks.bs) WITH ORDINALITY AS u(b, i)
$$;
--> statement-breakpoint
-- Number of values in a histogram (a tier row's count covers receipts without a lag too).
CREATE OR REPLACE FUNCTION hist_total(h jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(v::bigint), 0)::bigint FROM jsonb_each_text(h) AS t(k, v)
$$;
--> statement-breakpoint
-- One ALTER, so the table is rewritten once to compute the three columns of the existing rows.
ALTER TABLE "latency_rollups" ADD COLUMN "ack_pcts" double precision[] GENERATED ALWAYS AS (hist_pcts(ack_hist)) STORED,
  ADD COLUMN "lag_pcts" double precision[] GENERATED ALWAYS AS (hist_pcts(lag_hist)) STORED,
  ADD COLUMN "lag_count" bigint GENERATED ALWAYS AS (hist_total(lag_hist)) STORED NOT NULL;

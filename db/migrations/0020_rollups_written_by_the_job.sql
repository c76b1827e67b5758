-- The rollups job merges the latency tiers' histograms and computes their percentiles itself (db/queries/rollups.ts):
-- SQL's hist_merge and the generated columns' hist_pcts cost PGlite 30 ms a write at 400/s of one event
-- type and 74 ms at six (bench/rollup-write.ts; 12 and 22 ms with the job doing it). The
-- receipt rollups' histograms were written every second and read by nothing (latency_rollups has them).
ALTER TABLE "latency_rollups" ALTER COLUMN "ack_pcts" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "latency_rollups" ALTER COLUMN "lag_pcts" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "latency_rollups" ALTER COLUMN "lag_count" DROP EXPRESSION;--> statement-breakpoint
ALTER TABLE "receipt_rollups" DROP COLUMN "ack_hist";--> statement-breakpoint
ALTER TABLE "receipt_rollups" DROP COLUMN "lag_hist";
-- Rollups gain a source dimension. Rows written before this migration were not attributed to a
-- source: outcome rows keep source '' (counted in "all sources", in no single source), latency rows
-- become the all-sources rows ('*'). Hand-ordered: the column exists before the new keys use it.
ALTER TABLE "latency_rollups" ADD COLUMN "source" text DEFAULT '*' NOT NULL;--> statement-breakpoint
ALTER TABLE "receipt_counts_hourly" ADD COLUMN "source" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "receipt_rollups" ADD COLUMN "source" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "latency_rollups" DROP CONSTRAINT "latency_rollups_granularity_event_type_bucket_pk";--> statement-breakpoint
ALTER TABLE "receipt_counts_hourly" DROP CONSTRAINT "receipt_counts_hourly_hour_event_type_outcome_pk";--> statement-breakpoint
ALTER TABLE "receipt_rollups" DROP CONSTRAINT "receipt_rollups_minute_event_type_outcome_pk";--> statement-breakpoint
ALTER TABLE "latency_rollups" ADD CONSTRAINT "latency_rollups_granularity_source_event_type_bucket_pk" PRIMARY KEY("granularity","source","event_type","bucket");--> statement-breakpoint
ALTER TABLE "receipt_counts_hourly" ADD CONSTRAINT "receipt_counts_hourly_hour_source_event_type_outcome_pk" PRIMARY KEY("hour","source","event_type","outcome");--> statement-breakpoint
ALTER TABLE "receipt_rollups" ADD CONSTRAINT "receipt_rollups_minute_source_event_type_outcome_pk" PRIMARY KEY("minute","source","event_type","outcome");

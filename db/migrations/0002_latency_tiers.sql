CREATE TABLE "latency_rollups" (
	"granularity" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"event_type" text NOT NULL,
	"count" bigint NOT NULL,
	"ack_hist" jsonb NOT NULL,
	"lag_hist" jsonb NOT NULL,
	CONSTRAINT "latency_rollups_granularity_event_type_bucket_pk" PRIMARY KEY("granularity","event_type","bucket")
);
--> statement-breakpoint
DROP INDEX "receipts_unrolled_idx";--> statement-breakpoint
DROP INDEX "receipts_delivery_idx";--> statement-breakpoint
CREATE INDEX "receipts_delivery_idx" ON "receipts" USING btree ("delivery_id" text_pattern_ops);--> statement-breakpoint
ALTER TABLE "receipts" DROP COLUMN "rolled_up";
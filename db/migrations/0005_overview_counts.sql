CREATE TABLE "receipt_counts_hourly" (
	"hour" timestamp with time zone NOT NULL,
	"event_type" text NOT NULL,
	"outcome" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "receipt_counts_hourly_hour_event_type_outcome_pk" PRIMARY KEY("hour","event_type","outcome")
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "retried" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "events_retried_dead_idx" ON "events" USING btree ("created_at") WHERE "events"."retried" or "events"."status" = 'dead';--> statement-breakpoint
-- Existing data: events with more than one attempt row were retried; hourly counts from the minutes.
UPDATE "events" SET "retried" = true
 WHERE "id" IN (SELECT "event_id" FROM "attempts" GROUP BY "event_id" HAVING count(*) > 1);
--> statement-breakpoint
INSERT INTO "receipt_counts_hourly" ("hour", "event_type", "outcome", "count")
SELECT date_trunc('hour', "minute"), "event_type", "outcome", sum("count")
  FROM "receipt_rollups" GROUP BY 1, 2, 3;

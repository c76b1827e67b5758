-- Dead letters are listed and paged by when they died (db/queries/dlq.ts): every one needs the time.
-- Any without it take their last attempt's start, else their arrival.
UPDATE "events" e SET "dead_at" = coalesce((SELECT max(a."started_at") FROM "attempts" a WHERE a."event_id" = e."id"), e."created_at") WHERE e."status" = 'dead' AND e."dead_at" IS NULL;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_dead_at_ck" CHECK ("events"."status" <> 'dead' or "events"."dead_at" is not null);

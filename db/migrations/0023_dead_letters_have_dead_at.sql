-- Dead letters are listed and paged by when they died (db/queries/dlq.ts). Any without the time
-- (nothing writes one now) take their last attempt's start, else their arrival. No CHECK constraint:
-- adding one scans all of events under a lock that would stop every other replica's receiver.
UPDATE "events" e SET "dead_at" = coalesce((SELECT max(a."started_at") FROM "attempts" a WHERE a."event_id" = e."id"), e."created_at") WHERE e."status" = 'dead' AND e."dead_at" IS NULL;

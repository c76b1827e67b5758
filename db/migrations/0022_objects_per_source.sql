-- The handlers' objects and their versions are per source: two accounts of one provider number their
-- contacts independently (lib/worker/handlers). Existing rows take the source of the event that wrote
-- them. One whose event is pruned already (older than RETENTION_DAYS) takes the source most of the
-- SkyLight events still kept came from (the handlers are SkyLight's; with one SkyLight source, the
-- usual case, that is its source), else the default source.
ALTER TABLE "bookings" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "entity_versions" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "source" text;--> statement-breakpoint
UPDATE "bookings" o SET "source" = coalesce((SELECT e."source" FROM "events" e WHERE e."id" = o."source_event_id"), (SELECT e."source" FROM "events" e WHERE e."provider" = 'skylight' GROUP BY e."source" ORDER BY count(*) DESC, e."source" LIMIT 1), 'skylightchat');--> statement-breakpoint
UPDATE "contacts" o SET "source" = coalesce((SELECT e."source" FROM "events" e WHERE e."id" = o."source_event_id"), (SELECT e."source" FROM "events" e WHERE e."provider" = 'skylight' GROUP BY e."source" ORDER BY count(*) DESC, e."source" LIMIT 1), 'skylightchat');--> statement-breakpoint
UPDATE "entity_versions" o SET "source" = coalesce((SELECT e."source" FROM "events" e WHERE e."id" = o."event_id"), (SELECT e."source" FROM "events" e WHERE e."provider" = 'skylight' GROUP BY e."source" ORDER BY count(*) DESC, e."source" LIMIT 1), 'skylightchat');--> statement-breakpoint
UPDATE "messages" o SET "source" = coalesce((SELECT e."source" FROM "events" e WHERE e."id" = o."source_event_id"), (SELECT e."source" FROM "events" e WHERE e."provider" = 'skylight' GROUP BY e."source" ORDER BY count(*) DESC, e."source" LIMIT 1), 'skylightchat');--> statement-breakpoint
ALTER TABLE "bookings" ALTER COLUMN "source" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "contacts" ALTER COLUMN "source" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "entity_versions" ALTER COLUMN "source" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "source" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "bookings" DROP CONSTRAINT "bookings_pkey";--> statement-breakpoint
ALTER TABLE "contacts" DROP CONSTRAINT "contacts_pkey";--> statement-breakpoint
ALTER TABLE "entity_versions" DROP CONSTRAINT "entity_versions_entity_id_pk";--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_pkey";--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_source_id_pk" PRIMARY KEY("source","id");--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_source_id_pk" PRIMARY KEY("source","id");--> statement-breakpoint
ALTER TABLE "entity_versions" ADD CONSTRAINT "entity_versions_source_entity_id_pk" PRIMARY KEY("source","entity","id");--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_source_id_pk" PRIMARY KEY("source","id");

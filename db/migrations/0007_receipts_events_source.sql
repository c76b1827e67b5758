-- Sources (issue 14): every receipt, event and fingerprint belongs to a source. Rows from before
-- sources arrived on the default SkyLight source; the defaults backfill them and are dropped, so new
-- rows must name their source.
ALTER TABLE "receipts" ADD COLUMN "source" text DEFAULT 'skylightchat' NOT NULL;--> statement-breakpoint
ALTER TABLE "receipts" ALTER COLUMN "source" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "provider" text;--> statement-breakpoint
UPDATE "receipts" SET "provider" = 'skylight';--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "attempt_id" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "source" text DEFAULT 'skylightchat' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "source" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "provider" text DEFAULT 'skylight' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "provider" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "fingerprint" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "fingerprints" ADD COLUMN "source" text DEFAULT 'skylightchat' NOT NULL;--> statement-breakpoint
ALTER TABLE "fingerprints" ALTER COLUMN "source" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "fingerprints" DROP CONSTRAINT "fingerprints_pkey";--> statement-breakpoint
ALTER TABLE "fingerprints" ADD CONSTRAINT "fingerprints_source_fingerprint_pk" PRIMARY KEY("source","fingerprint");--> statement-breakpoint
DROP INDEX "events_delivery_id_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "events_source_delivery_id_uq" ON "events" USING btree ("source","delivery_id");--> statement-breakpoint
CREATE INDEX "events_source_idx" ON "events" USING btree ("source","id");--> statement-breakpoint
CREATE INDEX "receipts_source_idx" ON "receipts" USING btree ("source","id");

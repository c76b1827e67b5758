CREATE TABLE "source_secrets" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "source_secrets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source" text NOT NULL,
	"label" text,
	"ciphertext" text NOT NULL,
	"last4" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_matched_at" timestamp with time zone,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sources" (
	"slug" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sources_slug_ck" CHECK ("sources"."slug" ~ '^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$')
);
--> statement-breakpoint
ALTER TABLE "source_secrets" ADD CONSTRAINT "source_secrets_source_sources_slug_fk" FOREIGN KEY ("source") REFERENCES "public"."sources"("slug") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "source_secrets_source_idx" ON "source_secrets" USING btree ("source","id");--> statement-breakpoint
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

CREATE TABLE "entity_versions" (
	"entity" text NOT NULL,
	"id" bigint NOT NULL,
	"version_at" timestamp with time zone NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"event_id" bigint NOT NULL,
	CONSTRAINT "entity_versions_entity_id_pk" PRIMARY KEY("entity","id")
);
--> statement-breakpoint
CREATE INDEX "attempts_stale_idx" ON "attempts" USING btree ("started_at") WHERE "attempts"."result" = 'skipped_stale';
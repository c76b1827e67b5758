-- The rollups job's batches carry an id, recorded in the same transaction: a batch retried after a COMMIT
-- whose answer was lost finds its id and adds nothing (db/queries/rollups.ts).
CREATE TABLE "rollup_writes" (
	"id" text PRIMARY KEY NOT NULL,
	"written_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rollup_writes_written_idx" ON "rollup_writes" USING btree ("written_at");
-- ---- hand-written (issue 17, search): keep above the generated statements when regenerating ----
-- Trigram operators for receipt_search's text index (PGlite loads the extension in db/client.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
-- The search indexer's cast: a body that is not valid jsonb (a malformed or refused request) is
-- indexed as text only instead of failing its whole batch. pg_input_is_valid needs Postgres 16.
CREATE OR REPLACE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN t::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;--> statement-breakpoint
-- ---- end of hand-written ----
CREATE TABLE "receipt_search" (
	"receipt_id" bigint PRIMARY KEY NOT NULL,
	"doc" text NOT NULL,
	"payload" jsonb
);
--> statement-breakpoint
ALTER TABLE "receipt_search" ADD CONSTRAINT "receipt_search_receipt_id_receipts_id_fk" FOREIGN KEY ("receipt_id") REFERENCES "public"."receipts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "receipt_search_doc_trgm_idx" ON "receipt_search" USING gin ("doc" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "receipt_search_payload_idx" ON "receipt_search" USING gin ("payload" jsonb_path_ops);
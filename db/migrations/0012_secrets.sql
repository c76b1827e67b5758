ALTER TABLE "receipts" ADD COLUMN "secret_id" bigint;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "forensics" jsonb;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "rotating_since" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "receipts_forensics_idx" ON "receipts" USING btree ("received_at") WHERE "receipts"."forensics" is not null;
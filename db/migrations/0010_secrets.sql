ALTER TABLE "receipts" ADD COLUMN "secret_id" bigint;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "forensics" jsonb;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "rotating_since" timestamp with time zone;
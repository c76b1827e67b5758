CREATE TABLE "receipt_acks" (
	"receipt_id" bigint PRIMARY KEY NOT NULL,
	"ack_ms" real NOT NULL
);
--> statement-breakpoint
ALTER TABLE "receipt_acks" ADD CONSTRAINT "receipt_acks_receipt_id_receipts_id_fk" FOREIGN KEY ("receipt_id") REFERENCES "public"."receipts"("id") ON DELETE cascade ON UPDATE no action;
CREATE TABLE "attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"worker" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" real NOT NULL,
	"result" text NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"detail" jsonb,
	"ip" text
);
--> statement-breakpoint
CREATE TABLE "bookings" (
	"id" bigint PRIMARY KEY NOT NULL,
	"contact_id" bigint,
	"title" text,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"status" text,
	"data" jsonb NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" bigint PRIMARY KEY NOT NULL,
	"name" text,
	"email" text,
	"phone" text,
	"channel" text,
	"status" text,
	"tags" jsonb,
	"data" jsonb NOT NULL,
	"source_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "effects" (
	"event_id" bigint NOT NULL,
	"handler" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "effects_event_id_handler_pk" PRIMARY KEY("event_id","handler")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" text NOT NULL,
	"event_type" text NOT NULL,
	"fingerprint" text NOT NULL,
	"payload" jsonb NOT NULL,
	"provider_ts" timestamp with time zone,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"dead_at" timestamp with time zone,
	"discarded_at" timestamp with time zone,
	CONSTRAINT "events_status_ck" CHECK ("events"."status" in ('pending', 'processing', 'processed', 'dead', 'discarded'))
);
--> statement-breakpoint
CREATE TABLE "fingerprints" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"event_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigint PRIMARY KEY NOT NULL,
	"contact_id" bigint,
	"direction" text,
	"channel" text,
	"content" text,
	"status" text,
	"data" jsonb NOT NULL,
	"source_event_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "receipt_rollups" (
	"minute" timestamp with time zone NOT NULL,
	"event_type" text NOT NULL,
	"outcome" text NOT NULL,
	"count" bigint NOT NULL,
	"ack_hist" jsonb NOT NULL,
	"lag_hist" jsonb NOT NULL,
	CONSTRAINT "receipt_rollups_minute_event_type_outcome_pk" PRIMARY KEY("minute","event_type","outcome")
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "receipts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" text,
	"event_type" text,
	"outcome" text NOT NULL,
	"reason" text,
	"http_status" integer NOT NULL,
	"ack_ms" real NOT NULL,
	"lag_ms" real,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"provider_ts" timestamp with time zone,
	"headers" jsonb NOT NULL,
	"body" text,
	"body_bytes" integer NOT NULL,
	"event_id" bigint,
	"rolled_up" boolean DEFAULT false NOT NULL,
	CONSTRAINT "receipts_outcome_ck" CHECK ("receipts"."outcome" in ('accepted', 'duplicate', 'rejected', 'malformed', 'ignored', 'unavailable'))
);
--> statement-breakpoint
CREATE TABLE "sandbox_deliveries" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sandbox_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"webhook_id" integer NOT NULL,
	"event_type" text NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt_number" integer NOT NULL,
	"response_status_code" integer,
	"response_body" text,
	"status" text NOT NULL,
	"payload" text NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox_webhooks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sandbox_webhooks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sandbox_deliveries" ADD CONSTRAINT "sandbox_deliveries_webhook_id_sandbox_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."sandbox_webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attempts_event_idx" ON "attempts" USING btree ("event_id","attempt");--> statement-breakpoint
CREATE INDEX "attempts_started_idx" ON "attempts" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "audit_at_idx" ON "audit_log" USING btree ("at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "events_delivery_id_uq" ON "events" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "events_due_idx" ON "events" USING btree ("next_attempt_at") WHERE "events"."status" in ('pending', 'processing');--> statement-breakpoint
CREATE INDEX "events_status_created_idx" ON "events" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "events_dead_idx" ON "events" USING btree ("dead_at","id") WHERE "events"."status" = 'dead';--> statement-breakpoint
CREATE INDEX "events_type_idx" ON "events" USING btree ("event_type","id");--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "receipts_received_idx" ON "receipts" USING btree ("received_at","id");--> statement-breakpoint
CREATE INDEX "receipts_outcome_idx" ON "receipts" USING btree ("outcome","id");--> statement-breakpoint
CREATE INDEX "receipts_type_idx" ON "receipts" USING btree ("event_type","id");--> statement-breakpoint
CREATE INDEX "receipts_delivery_idx" ON "receipts" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "receipts_event_idx" ON "receipts" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "receipts_unrolled_idx" ON "receipts" USING btree ("id") WHERE not "receipts"."rolled_up";--> statement-breakpoint
CREATE INDEX "sandbox_deliveries_webhook_idx" ON "sandbox_deliveries" USING btree ("webhook_id","id");--> statement-breakpoint
CREATE INDEX "sandbox_deliveries_due_idx" ON "sandbox_deliveries" USING btree ("next_attempt_at") WHERE "sandbox_deliveries"."status" = 'pending';
CREATE TABLE "reconciliation_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reconciliation_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"webhook_id" integer NOT NULL,
	"source" text,
	"chain_key" text NOT NULL,
	"delivery_id" text,
	"event_type" text NOT NULL,
	"class" text NOT NULL,
	"provider_status" text NOT NULL,
	"exhausted" boolean NOT NULL,
	"attempt_number" integer NOT NULL,
	"attempts" integer NOT NULL,
	"first_sent_at" timestamp with time zone NOT NULL,
	"last_sent_at" timestamp with time zone NOT NULL,
	"retry_deadline_at" timestamp with time zone,
	"provider_response_status" integer,
	"receipt_id" bigint,
	"our_http_status" integer,
	"our_outcome" text,
	"our_reason" text,
	"our_ack_ms" real,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciliation_deliveries_class_ck" CHECK ("reconciliation_deliveries"."class" in ('matched', 'never_received', 'answered_non_2xx', 'acked_late', 'provider_failed'))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reconciliation_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"state" text DEFAULT 'running' NOT NULL,
	"trigger" text NOT NULL,
	"actor" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"webhooks" integer DEFAULT 0 NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"provider_rows" integer DEFAULT 0 NOT NULL,
	"rate_limited" integer DEFAULT 0 NOT NULL,
	"error" text,
	CONSTRAINT "reconciliation_runs_state_ck" CHECK ("reconciliation_runs"."state" in ('running', 'done', 'failed', 'abandoned'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_deliveries_chain_uq" ON "reconciliation_deliveries" USING btree ("provider","webhook_id","chain_key");--> statement-breakpoint
CREATE INDEX "reconciliation_deliveries_sent_idx" ON "reconciliation_deliveries" USING btree ("last_sent_at","id");--> statement-breakpoint
CREATE INDEX "reconciliation_deliveries_class_idx" ON "reconciliation_deliveries" USING btree ("class","last_sent_at");--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_runs_one_running_uq" ON "reconciliation_runs" USING btree ("state") WHERE "reconciliation_runs"."state" = 'running';--> statement-breakpoint
CREATE INDEX "reconciliation_runs_started_idx" ON "reconciliation_runs" USING btree ("started_at");
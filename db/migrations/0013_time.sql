CREATE TABLE "payload_drift" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "payload_drift_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source" text NOT NULL,
	"event_type" text NOT NULL,
	"path" text NOT NULL,
	"kind" text NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	"event_id" bigint NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payload_drift_kind_ck" CHECK ("payload_drift"."kind" in ('new_field', 'missing_field', 'type_change'))
);
--> statement-breakpoint
CREATE TABLE "payload_shape_types" (
	"source" text NOT NULL,
	"event_type" text NOT NULL,
	"samples" integer DEFAULT 0 NOT NULL,
	"capped" boolean DEFAULT false NOT NULL,
	"last_event_id" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payload_shape_types_source_event_type_pk" PRIMARY KEY("source","event_type")
);
--> statement-breakpoint
CREATE TABLE "payload_shapes" (
	"source" text NOT NULL,
	"event_type" text NOT NULL,
	"path" text NOT NULL,
	"types" text NOT NULL,
	"seen" integer DEFAULT 0 NOT NULL,
	"missing_run" integer DEFAULT 0 NOT NULL,
	"missing_since_event_id" bigint,
	"first_event_id" bigint NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payload_shapes_source_event_type_path_pk" PRIMARY KEY("source","event_type","path")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "payload_drift_uq" ON "payload_drift" USING btree ("source","event_type","path","kind","detail");--> statement-breakpoint
CREATE INDEX "payload_drift_detected_idx" ON "payload_drift" USING btree ("detected_at","id");
-- Hand-written (issue 19, retention): receipts, receipt_acks and receipt_search become tables
-- partitioned by UTC day on received_at, so retention drops a day's tables and the disk comes back
-- (DELETE freed none of it and doubled the receiver's p99 while it ran: BENCHMARKS.md).
-- Day partitions are `<table>_dYYYYMMDD`; rows stored before this migration keep their table as
-- `<table>_upto_YYYYMMDD` (everything before that day), pruned by DELETE until that whole range is
-- past retention and then dropped like a day. A DEFAULT partition catches a row that finds no
-- partition (the days ahead not yet created), so no write fails.

-- The search copy is rebuilt by its background job from the first receipt (db/queries/search.ts)
-- instead of being rewritten here: every row of it would have to move, with its GIN entries.
DROP TABLE "receipt_search";--> statement-breakpoint
CREATE TABLE "receipt_search" (
	"receipt_id" bigint NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"doc" text NOT NULL,
	"payload" jsonb,
	CONSTRAINT "receipt_search_receipt_id_received_at_pk" PRIMARY KEY("receipt_id","received_at")
) PARTITION BY RANGE ("received_at");--> statement-breakpoint
CREATE INDEX "receipt_search_doc_trgm_idx" ON "receipt_search" USING gin ("doc" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "receipt_search_payload_idx" ON "receipt_search" USING gin ("payload" jsonb_path_ops);--> statement-breakpoint
CREATE TABLE "receipt_search_default" PARTITION OF "receipt_search" DEFAULT;--> statement-breakpoint

-- Exact ack times are kept: each takes its receipt's received_at.
ALTER TABLE "receipt_acks" DROP CONSTRAINT "receipt_acks_receipt_id_receipts_id_fk";--> statement-breakpoint
ALTER TABLE "receipt_acks" ADD COLUMN "received_at" timestamp with time zone;--> statement-breakpoint
UPDATE "receipt_acks" a SET "received_at" = r."received_at" FROM "receipts" r WHERE r."id" = a."receipt_id";--> statement-breakpoint
DELETE FROM "receipt_acks" WHERE "received_at" IS NULL;--> statement-breakpoint
ALTER TABLE "receipt_acks" ALTER COLUMN "received_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "receipt_acks" DROP CONSTRAINT "receipt_acks_pkey";--> statement-breakpoint
ALTER TABLE "receipt_acks" RENAME TO "receipt_acks_old";--> statement-breakpoint
CREATE TABLE "receipt_acks" (
	"receipt_id" bigint NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"ack_ms" real NOT NULL,
	CONSTRAINT "receipt_acks_receipt_id_received_at_pk" PRIMARY KEY("receipt_id","received_at")
) PARTITION BY RANGE ("received_at");--> statement-breakpoint
CREATE TABLE "receipt_acks_default" PARTITION OF "receipt_acks" DEFAULT;--> statement-breakpoint

-- receipts: the old table's indexes are renamed so the new table's can take their names; attaching
-- the old table adopts them (same definitions) instead of building them again. Only the key, now
-- (id, received_at), is built.
ALTER TABLE "receipts" DROP CONSTRAINT "receipts_pkey";--> statement-breakpoint
-- Ids go on from the old sequence, not from the highest id left: other tables (audit, reconciliation,
-- alerts) may name receipts already pruned, and a new receipt must never take such an id.
CREATE TEMP TABLE "receipts_id_before" AS SELECT "last_value", "is_called" FROM "receipts_id_seq";--> statement-breakpoint
ALTER TABLE "receipts" ALTER COLUMN "id" DROP IDENTITY;--> statement-breakpoint
ALTER TABLE "receipts" RENAME TO "receipts_old";--> statement-breakpoint
ALTER INDEX "receipts_received_idx" RENAME TO "receipts_old_received_idx";--> statement-breakpoint
ALTER INDEX "receipts_source_idx" RENAME TO "receipts_old_source_idx";--> statement-breakpoint
ALTER INDEX "receipts_outcome_idx" RENAME TO "receipts_old_outcome_idx";--> statement-breakpoint
ALTER INDEX "receipts_type_idx" RENAME TO "receipts_old_type_idx";--> statement-breakpoint
ALTER INDEX "receipts_delivery_idx" RENAME TO "receipts_old_delivery_idx";--> statement-breakpoint
ALTER INDEX "receipts_event_idx" RENAME TO "receipts_old_event_idx";--> statement-breakpoint
ALTER INDEX "receipts_forensics_idx" RENAME TO "receipts_old_forensics_idx";--> statement-breakpoint
CREATE SEQUENCE "receipts_id_seq";--> statement-breakpoint
SELECT setval('receipts_id_seq', greatest(
  coalesce(max("id"), 0),
  (SELECT CASE WHEN "is_called" THEN "last_value" ELSE "last_value" - 1 END FROM "receipts_id_before")) + 1, false)
  FROM "receipts_old";--> statement-breakpoint
DROP TABLE "receipts_id_before";--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" bigint DEFAULT nextval('receipts_id_seq') NOT NULL,
	"source" text NOT NULL,
	"provider" text,
	"delivery_id" text,
	"attempt_id" text,
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
	"secret_id" bigint,
	"forensics" jsonb,
	CONSTRAINT "receipts_id_received_at_pk" PRIMARY KEY("id","received_at"),
	CONSTRAINT "receipts_outcome_ck" CHECK ("outcome" in ('accepted', 'duplicate', 'rejected', 'malformed', 'ignored', 'unavailable'))
) PARTITION BY RANGE ("received_at");--> statement-breakpoint
ALTER SEQUENCE "receipts_id_seq" OWNED BY "receipts"."id";--> statement-breakpoint
CREATE INDEX "receipts_received_idx" ON "receipts" USING btree ("received_at","id");--> statement-breakpoint
CREATE INDEX "receipts_source_idx" ON "receipts" USING btree ("source","id");--> statement-breakpoint
CREATE INDEX "receipts_outcome_idx" ON "receipts" USING btree ("outcome","id");--> statement-breakpoint
CREATE INDEX "receipts_type_idx" ON "receipts" USING btree ("event_type","id");--> statement-breakpoint
CREATE INDEX "receipts_delivery_idx" ON "receipts" USING btree ("delivery_id" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "receipts_event_idx" ON "receipts" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "receipts_forensics_idx" ON "receipts" USING btree ("received_at") WHERE "forensics" is not null;--> statement-breakpoint
CREATE TABLE "receipts_default" PARTITION OF "receipts" DEFAULT;--> statement-breakpoint

-- Rows already stored stay where they are: the old tables become the partitions of everything before
-- tomorrow (UTC), or after their latest row if a clock ran ahead, so attaching them finds no row out
-- of range. An empty old table is dropped instead. Then the next days get their partitions, as
-- ensureDayPartitions (db/queries/partitions.ts) creates them from here on.
DO $$
DECLARE
  latest timestamptz := (SELECT max("received_at") FROM "receipts_old");
  first date := (now() at time zone 'utc')::date;
  bound text;
  suffix text;
  t text;
  d date;
BEGIN
  IF latest IS NULL THEN
    DROP TABLE "receipts_old";
    DROP TABLE "receipt_acks_old";
  ELSE
    first := greatest(first, (latest at time zone 'utc')::date) + 1;
    bound := quote_literal(first::text || ' 00:00:00+00');
    suffix := to_char(first, 'YYYYMMDD');
    EXECUTE format('ALTER TABLE receipts_old RENAME TO %I', 'receipts_upto_' || suffix);
    EXECUTE format('ALTER TABLE receipts ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
      'receipts_upto_' || suffix, bound);
    EXECUTE format('ALTER TABLE receipt_acks_old RENAME TO %I', 'receipt_acks_upto_' || suffix);
    EXECUTE format('ALTER TABLE receipt_acks ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
      'receipt_acks_upto_' || suffix, bound);
    EXECUTE format('CREATE TABLE %I PARTITION OF receipt_search FOR VALUES FROM (MINVALUE) TO (%s)',
      'receipt_search_upto_' || suffix, bound);
  END IF;
  FOREACH t IN ARRAY ARRAY['receipts', 'receipt_search', 'receipt_acks'] LOOP
    FOR i IN 0..2 LOOP
      d := first + i;
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
        t || '_d' || to_char(d, 'YYYYMMDD'), t,
        quote_literal(d::text || ' 00:00:00+00'), quote_literal((d + 1)::text || ' 00:00:00+00'));
    END LOOP;
  END LOOP;
END $$;

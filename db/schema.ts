import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const RECEIPT_OUTCOMES = [
  'accepted',
  'duplicate',
  'rejected',
  'malformed',
  'ignored',
  'unavailable',
] as const;
export type ReceiptOutcome = (typeof RECEIPT_OUTCOMES)[number];

/** The most likely reason a signature was refused, in the order they are tested. */
export const SIGNATURE_CAUSES = [
  'no_signature_header',
  'wrong_encoding',
  'timestamp_outside_tolerance',
  'retired_secret',
  'whsec_prefix',
  'other_source_secret',
  'body_reserialised',
  'current_secret',
  'no_known_secret',
  'not_analysed',
] as const;
export type SignatureCause = (typeof SIGNATURE_CAUSES)[number];

/** Stored on a refused receipt: never a secret's value, only its id, label and last 4 characters. */
export type SignatureDiagnosis = {
  cause: SignatureCause;
  /** One sentence for the operator. */
  detail: string;
  /** The signature header as presented (not a secret: it is a digest anyone on the path saw). */
  presented: string | null;
  secret?: { id: number | null; label: string | null; last4: string; expired_at?: string | null };
  other_source?: string;
  skew_s?: number;
  variant?: string;
  /** HMACs computed for this diagnosis (bounded per request). */
  hmacs: number;
};

export const EVENT_STATUSES = ['pending', 'processing', 'processed', 'dead', 'discarded'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** `skipped_stale`: processed, but the change was older than what is stored, so it had no effect. */
export const ATTEMPT_RESULTS = ['success', 'skipped_stale', 'transient', 'permanent', 'lease_lost'] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

const tsz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity();

/** One row per unique delivery: the queue the worker claims from and the DLQ the dashboard reads. */
export const events = pgTable(
  'events',
  {
    id: id(),
    /** The source (inbound endpoint) it arrived on; dedupe keys are unique per source. */
    source: text('source').notNull(),
    provider: text('provider').notNull(),
    deliveryId: text('delivery_id').notNull(),
    eventType: text('event_type').notNull(),
    /** Null for providers whose ids are stable across retries (no content dedupe needed). */
    fingerprint: text('fingerprint'),
    payload: jsonb('payload').notNull(),
    providerTs: tsz('provider_ts'),
    status: text('status', { enum: EVENT_STATUSES }).notNull().default('pending'),
    /** Attempts in the current round: the worker allows WORKER_MAX_ATTEMPTS, a manual retry restarts at 0. */
    attempts: integer('attempts').notNull().default(0),
    /** Attempts used in earlier rounds, so attempt numbers keep counting across manual retries. */
    attemptOffset: integer('attempt_offset').notNull().default(0),
    /**
     * Claims that ended without a result: the worker holding the event died or its lease ran out.
     * Counted apart from attempts, so a crash costs no event a try; an interrupted event runs alone
     * in its next claim, and one interrupted 5 times is dead-lettered unrun (it may be what kills
     * the worker; MAX_INTERRUPTIONS).
     */
    interruptions: integer('interruptions').notNull().default(0),
    /**
     * Needed more than one attempt: set when a failure schedules a retry or a dead letter is
     * re-queued by hand. Kept on the row (events.attempts restarts on a manual retry) so retry-rate
     * charts read only the retried and dead rows through a partial index.
     */
    retried: boolean('retried').notNull().default(false),
    nextAttemptAt: tsz('next_attempt_at').notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedUntil: tsz('locked_until'),
    lastError: text('last_error'),
    createdAt: tsz('created_at').notNull().defaultNow(),
    processedAt: tsz('processed_at'),
    deadAt: tsz('dead_at'),
    discardedAt: tsz('discarded_at'),
  },
  (t) => [
    uniqueIndex('events_source_delivery_id_uq').on(t.source, t.deliveryId),
    index('events_source_idx').on(t.source, t.id),
    // The claim query: due pending rows and expired leases.
    index('events_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'processing')`),
    index('events_status_created_idx').on(t.status, t.id),
    index('events_dead_idx').on(t.deadAt, t.id).where(sql`${t.status} = 'dead'`),
    index('events_type_idx').on(t.eventType, t.id),
    index('events_created_idx').on(t.createdAt),
    index('events_retried_dead_idx').on(t.createdAt).where(sql`${t.retried} or ${t.status} = 'dead'`),
    check(
      'events_status_ck',
      sql`${t.status} in ('pending', 'processing', 'processed', 'dead', 'discarded')`,
    ),
  ],
);

/**
 * Content fingerprints (event + canonical data) for the 24 h second dedupe key. A row older than
 * the window may be taken over by a new event (upsert with a WHERE on created_at).
 */
export const fingerprints = pgTable(
  'fingerprints',
  {
    source: text('source').notNull(),
    fingerprint: text('fingerprint').notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    createdAt: tsz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.fingerprint] })],
);

/**
 * Every request that reached the receiver, whatever we answered. Partitioned by UTC day on received_at
 * (migration 0018), with receipt_search and receipt_acks beside it, so retention drops a day's tables
 * and gives their disk back instead of deleting rows (db/queries/partitions.ts).
 */
export const receipts = pgTable(
  'receipts',
  {
    /**
     * A sequence default, not an identity: Postgres 15 has no identity columns on a partitioned table.
     * Unique with received_at (a partitioned table's key must hold the partition key); ids still grow.
     */
    id: bigint('id', { mode: 'number' }).notNull().default(sql`nextval('receipts_id_seq')`),
    /** The path segment it arrived on (`/api/webhooks/:source`), known or not. */
    source: text('source').notNull(),
    /** The source's provider; null when the source is unknown. */
    provider: text('provider'),
    deliveryId: text('delivery_id'),
    /** The provider's id of this one attempt when it sends one apart from the dedupe id (Sly's X-Sly-Delivery-Id). */
    attemptId: text('attempt_id'),
    eventType: text('event_type'),
    outcome: text('outcome', { enum: RECEIPT_OUTCOMES }).notNull(),
    reason: text('reason'),
    httpStatus: integer('http_status').notNull(),
    /**
     * Provisional for a written receipt: the time up to handing it to the write. The exact ack time,
     * measured after COMMIT, goes to receipt_acks; read them through ackMsOf (db/queries/deliveries.ts).
     */
    ackMs: real('ack_ms').notNull(),
    lagMs: real('lag_ms'),
    receivedAt: tsz('received_at').notNull().defaultNow(),
    providerTs: tsz('provider_ts'),
    headers: jsonb('headers').$type<Record<string, string>>().notNull(),
    body: text('body'),
    bodyBytes: integer('body_bytes').notNull(),
    eventId: bigint('event_id', { mode: 'number' }),
    /** The source secret whose signature matched (source_secrets.id; null: an environment secret). */
    secretId: bigint('secret_id', { mode: 'number' }),
    /** Why a signature was refused, worked out off the response path (lib/sources/forensics.ts). */
    forensics: jsonb('forensics').$type<SignatureDiagnosis>(),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.receivedAt] }),
    index('receipts_received_idx').on(t.receivedAt, t.id),
    index('receipts_source_idx').on(t.source, t.id),
    index('receipts_outcome_idx').on(t.outcome, t.id),
    index('receipts_type_idx').on(t.eventType, t.id),
    // text_pattern_ops: serves equality and the dashboard's prefix search under any collation.
    index('receipts_delivery_idx').using('btree', t.deliveryId.op('text_pattern_ops')),
    index('receipts_event_idx').on(t.eventId),
    // Refused signatures only (bounded by the refusal sampler): the rejection-cause breakdown reads these.
    index('receipts_forensics_idx').on(t.receivedAt).where(sql`${t.forensics} is not null`),
    check(
      'receipts_outcome_ck',
      sql`${t.outcome} in ('accepted', 'duplicate', 'rejected', 'malformed', 'ignored', 'unavailable')`,
    ),
  ],
);

/**
 * The exact ack time of a written receipt, measured once its COMMIT returned and written in the
 * background a batch at a time. Its own narrow table because rewriting the receipt row for it was
 * not a HOT update (a 1.5 KB row leaves no room on its page): every ack time added an entry to each
 * of the receipts indexes and cost more buffers than the receipt's own insert (BENCHMARKS.md, issue
 * #19). A receipt without a row here keeps its provisional receipts.ack_ms.
 */
export const receiptAcks = pgTable(
  'receipt_acks',
  {
    receiptId: bigint('receipt_id', { mode: 'number' }).notNull(),
    /** Its receipt's: partitioned by day like receipts, and dropped with them. */
    receivedAt: tsz('received_at').notNull(),
    ackMs: real('ack_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.receiptId, t.receivedAt] })],
);

/**
 * The search copy of receipt bodies (issue 17): a trigram index for text anywhere and a
 * jsonb_path_ops index for a JSON path equal to a value. Filled by a background job a batch at a time
 * (db/queries/search.ts), never in the receiver's transaction: a trigram GIN on receipts.body cut raw
 * insert throughput about 3x. `payload` is null when the body is not JSON.
 */
export const receiptSearch = pgTable(
  'receipt_search',
  {
    receiptId: bigint('receipt_id', { mode: 'number' }).notNull(),
    /** Its receipt's: partitioned by day like receipts, and dropped with them. */
    receivedAt: tsz('received_at').notNull(),
    doc: text('doc').notNull(),
    payload: jsonb('payload'),
  },
  (t) => [
    primaryKey({ columns: [t.receiptId, t.receivedAt] }),
    index('receipt_search_doc_trgm_idx').using('gin', t.doc.op('gin_trgm_ops')),
    index('receipt_search_payload_idx').using('gin', t.payload.op('jsonb_path_ops')),
  ],
);

/** One row per processing attempt, kept after retries so the history is never lost. */
export const attempts = pgTable(
  'attempts',
  {
    id: id(),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    worker: text('worker').notNull(),
    startedAt: tsz('started_at').notNull(),
    durationMs: real('duration_ms').notNull(),
    result: text('result', { enum: ATTEMPT_RESULTS }).notNull(),
    error: text('error'),
  },
  (t) => [
    index('attempts_event_idx').on(t.eventId, t.attempt),
    index('attempts_started_idx').on(t.startedAt),
    // The overview counts stale updates per event type over any range: few rows, read by index.
    index('attempts_stale_idx').on(t.startedAt).where(sql`${t.result} = 'skipped_stale'`),
  ],
);

export const EVENT_HISTORY_KINDS = ['dead_lettered', 'retried', 'discarded'] as const;
export type EventHistoryKind = (typeof EVENT_HISTORY_KINDS)[number];

/**
 * What happened to an event besides its attempts: each dead-lettering and each manual retry or
 * discard (who and when), so its timeline reads in order across retries. A bulk retry writes one row
 * per event it re-queued.
 */
export const eventHistory = pgTable(
  'event_history',
  {
    id: id(),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    at: tsz('at').notNull().defaultNow(),
    kind: text('kind', { enum: EVENT_HISTORY_KINDS }).notNull(),
    actor: text('actor'),
    detail: text('detail'),
  },
  (t) => [index('event_history_event_idx').on(t.eventId, t.id)],
);

/**
 * Per-minute receipt counts per source, event type and outcome (outcome charts, KPIs, alert signals).
 * Latency lives in latency_rollups; the histograms these rows carried until migration 0020 were
 * written every second and read by nothing.
 */
export const receiptRollups = pgTable(
  'receipt_rollups',
  {
    minute: tsz('minute').notNull(),
    /** The receipt's source; '' for a request to no known source, and for rows from before 0010. */
    source: text('source').notNull().default(''),
    eventType: text('event_type').notNull(),
    outcome: text('outcome', { enum: RECEIPT_OUTCOMES }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.minute, t.source, t.eventType, t.outcome] })],
);

/**
 * Receipt counts per hour, event type and outcome: long-range outcome charts and KPI totals read
 * these (720 hours for 30 days) instead of 43,200 minutes of receipt_rollups.
 */
export const receiptCountsHourly = pgTable(
  'receipt_counts_hourly',
  {
    hour: tsz('hour').notNull(),
    /** As in receipt_rollups. */
    source: text('source').notNull().default(''),
    eventType: text('event_type').notNull(),
    outcome: text('outcome', { enum: RECEIPT_OUTCOMES }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.source, t.eventType, t.outcome] })],
);

/**
 * The rollups job's writes that committed, by the id each batch carries. A COMMIT whose answer was
 * lost (the connection dropped after it) leaves the job unsure; it retries the same batch with the
 * same id, and the id found here makes that retry add nothing (counts are sums, so a second add would
 * count every receipt of the batch twice). Kept a day (db/queries/rollups.ts).
 */
export const rollupWrites = pgTable(
  'rollup_writes',
  {
    id: text('id').primaryKey(),
    writtenAt: tsz('written_at').notNull().defaultNow(),
  },
  (t) => [index('rollup_writes_written_idx').on(t.writtenAt)],
);

export const ROLLUP_GRANULARITIES = ['minute', 'hour'] as const;

/**
 * Latency tiers for charts: one row per minute or hour, per source and event type, each also for all
 * sources and all types ('*'), so
 * a chart point is one row whatever the range (a 30-day chart reads 720 hourly rows). Each row keeps
 * its p50/p95/p99 so a chart at the tier's own granularity reads three numbers per point instead of a
 * histogram; the rollups job computes them with the merged histogram (db/queries/rollups.ts; SQL's
 * hist_pcts where two replicas insert the same new row). Every receipt has an ack time, so `count` is
 * also the ack histogram's total; not every one has a lag, hence `lag_count`.
 */
export const latencyRollups = pgTable(
  'latency_rollups',
  {
    granularity: text('granularity', { enum: ROLLUP_GRANULARITIES }).notNull(),
    bucket: tsz('bucket').notNull(),
    /** A source, or '*' for all sources (rows from before 0010 are all-sources rows only). */
    source: text('source').notNull().default('*'),
    eventType: text('event_type').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    ackHist: jsonb('ack_hist').$type<Record<string, number>>().notNull(),
    lagHist: jsonb('lag_hist').$type<Record<string, number>>().notNull(),
    ackPcts: doublePrecision('ack_pcts').array(),
    lagPcts: doublePrecision('lag_pcts').array(),
    lagCount: bigint('lag_count', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.granularity, t.source, t.eventType, t.bucket] }),
    // Retention deletes by bucket alone; the key cannot serve that, and without this the prune read
    // the whole table (231 MB at 335,000 rows) on every run (bench/levers.md).
    index('latency_rollups_bucket_idx').on(t.bucket),
  ],
);

// Example handler targets. Keys are SkyLight's ids so that re-running a handler is an upsert.
/**
 * The handlers' objects (contacts, messages, bookings) and their versions are per source: two
 * accounts of one provider number their contacts independently, and one's contact 42 is not the
 * other's.
 */
export const contacts = pgTable(
  'contacts',
  {
    source: text('source').notNull(),
    id: bigint('id', { mode: 'number' }).notNull(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    channel: text('channel'),
    status: text('status'),
    tags: jsonb('tags').$type<string[]>(),
    data: jsonb('data').notNull(),
    sourceEventId: bigint('source_event_id', { mode: 'number' }).notNull(),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] })],
);

export const messages = pgTable(
  'messages',
  {
    source: text('source').notNull(),
    id: bigint('id', { mode: 'number' }).notNull(),
    contactId: bigint('contact_id', { mode: 'number' }),
    direction: text('direction'),
    channel: text('channel'),
    content: text('content'),
    status: text('status'),
    data: jsonb('data').notNull(),
    sourceEventId: bigint('source_event_id', { mode: 'number' }).notNull(),
    createdAt: tsz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] })],
);

export const bookings = pgTable(
  'bookings',
  {
    source: text('source').notNull(),
    id: bigint('id', { mode: 'number' }).notNull(),
    contactId: bigint('contact_id', { mode: 'number' }),
    title: text('title'),
    startsAt: tsz('starts_at'),
    endsAt: tsz('ends_at'),
    status: text('status'),
    data: jsonb('data').notNull(),
    sourceEventId: bigint('source_event_id', { mode: 'number' }).notNull(),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] })],
);

/**
 * The version of each object the handlers keep (contacts, bookings), per source: the provider's
 * `updated_at` (or the event's own time; for a deletion that has neither, the time we received it)
 * of the state last applied, to the microsecond, and whether that state is a deletion. A change
 * older than this is skipped, so a late retry or a dead letter replayed days later cannot overwrite
 * newer data or bring a deleted contact back (lib/worker/handlers/types.ts writeIfNewer).
 */
export const entityVersions = pgTable(
  'entity_versions',
  {
    source: text('source').notNull(),
    entity: text('entity').notNull(),
    id: bigint('id', { mode: 'number' }).notNull(),
    versionAt: tsz('version_at').notNull(),
    deleted: boolean('deleted').notNull().default(false),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.entity, t.id] })],
);

/** Handler side effects, one row per (event, handler): proves exactly-once in tests and audits. */
export const effects = pgTable(
  'effects',
  {
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    handler: text('handler').notNull(),
    appliedAt: tsz('applied_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.handler] })],
);

/** Source slugs: the last path segment of `/api/webhooks/:source`. */
export const SOURCE_SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

/**
 * Inbound endpoints created in the dashboard or the API: one provider, its own signing secrets, on or
 * off. The default sources (SkyLight's `skylightchat`, Sly's `sly`) come from the environment and
 * have a row here only once a secret of theirs is stored (rotation). `provider` is a registry name (lib/providers/registry.ts), checked by the API.
 */
export const sources = pgTable(
  'sources',
  {
    slug: text('slug').primaryKey(),
    provider: text('provider').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: tsz('created_at').notNull().defaultNow(),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
    /**
     * Set while a secret is being regenerated at the provider: a replica that cannot verify a delivery
     * then waits for the new secret instead of refusing it (lib/sources/directory.ts).
     */
    rotatingSince: tsz('rotating_since'),
  },
  (t) => [check('sources_slug_ck', sql`${t.slug} ~ '^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$'`)],
);

/**
 * Signing secrets of a source, encrypted at rest (AES-256-GCM under SECRETS_ENCRYPTION_KEY, the
 * slug as associated data: lib/sources/crypto.ts). Only `last4` is ever shown.
 */
export const sourceSecrets = pgTable(
  'source_secrets',
  {
    id: id(),
    source: text('source')
      .notNull()
      .references(() => sources.slug, { onDelete: 'cascade' }),
    label: text('label'),
    ciphertext: text('ciphertext').notNull(),
    last4: text('last4').notNull(),
    createdAt: tsz('created_at').notNull().defaultNow(),
    lastMatchedAt: tsz('last_matched_at'),
    expiresAt: tsz('expires_at'),
  },
  (t) => [index('source_secrets_source_idx').on(t.source, t.id)],
);

export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'webhook_toggle',
  'dlq_retry',
  'dlq_bulk_retry',
  'dlq_discard',
  'delivery_enqueue',
  'delivery_bulk_enqueue',
  'request_refused',
  'user_create',
  'user_update',
  'password_change',
  'password_reset',
  'session_revoke',
  'token_create',
  'token_revoke',
  'sandbox_outage',
  'source_create',
  'source_update',
  'reconciliation_run',
  'sandbox_losses',
  'secret_add',
  'secret_rotate_start',
  'secret_rotate',
  'secret_retire',
  'alert_acknowledge',
  'alert_rule_update',
  'sandbox_fault',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_RESULTS = ['ok', 'refused'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    at: tsz('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    target: text('target'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    ip: text('ip'),
    // Which of the actor's API tokens made the change (null for a session).
    tokenName: text('token_name'),
    result: text('result', { enum: AUDIT_RESULTS }).notNull().default('ok'),
    // The error code of a refused change.
    code: text('code'),
  },
  (t) => [index('audit_at_idx').on(t.at, t.id), index('audit_actor_idx').on(t.actor, t.id)],
);

/** Small key/value settings (generated dashboard password hash, session key). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

// The embedded sandbox keeps its provider-side state in the app's database so it survives restarts.
export const sandboxWebhooks = pgTable('sandbox_webhooks', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  url: text('url').notNull(),
  events: jsonb('events').$type<string[]>().notNull(),
  isActive: boolean('is_active').notNull().default(true),
  secret: text('secret').notNull(),
  createdAt: tsz('created_at').notNull().defaultNow(),
  updatedAt: tsz('updated_at').notNull().defaultNow(),
});

export const sandboxDeliveries = pgTable(
  'sandbox_deliveries',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    webhookId: integer('webhook_id')
      .notNull()
      .references(() => sandboxWebhooks.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    deliveryId: text('delivery_id').notNull(),
    attemptNumber: integer('attempt_number').notNull(),
    responseStatusCode: integer('response_status_code'),
    responseBody: text('response_body'),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    payload: text('payload').notNull(),
    nextAttemptAt: tsz('next_attempt_at'),
    createdAt: tsz('created_at').notNull().defaultNow(),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('sandbox_deliveries_webhook_idx').on(t.webhookId, t.id),
    index('sandbox_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  ],
);

export type EventRow = typeof events.$inferSelect;
export type ReceiptRow = typeof receipts.$inferSelect;
export type ReceiptInsert = typeof receipts.$inferInsert;
export type AttemptRow = typeof attempts.$inferSelect;
export type SourceRow = typeof sources.$inferSelect;
export type SourceSecretRow = typeof sourceSecrets.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;

// ---- People: users, their sessions and API tokens (issue 18) ----

/** Ordered from least to most: a role may do everything the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const users = pgTable('users', {
  id: id(),
  // Stored lower-cased; the unique index is what makes concurrent bootstraps create one admin.
  email: text('email').notNull().unique(),
  role: text('role', { enum: ROLES }).notNull(),
  passwordHash: text('password_hash').notNull(),
  disabledAt: tsz('disabled_at'),
  createdAt: tsz('created_at').notNull().defaultNow(),
  passwordChangedAt: tsz('password_changed_at').notNull().defaultNow(),
});

/** Only the SHA-256 of a session token is stored, so a database read yields no usable cookie. */
export const userSessions = pgTable(
  'user_sessions',
  {
    id: id(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: tsz('created_at').notNull().defaultNow(),
    expiresAt: tsz('expires_at').notNull(),
    lastSeenAt: tsz('last_seen_at').notNull().defaultNow(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('user_sessions_user_idx').on(t.userId), index('user_sessions_expires_idx').on(t.expiresAt)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    // The last four characters, so a person can tell their tokens apart.
    last4: text('last4').notNull(),
    createdAt: tsz('created_at').notNull().defaultNow(),
    lastUsedAt: tsz('last_used_at'),
    revokedAt: tsz('revoked_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export type UserRow = typeof users.$inferSelect;

// ---- Reconciliation with the provider's delivery log (issue 15) ----

export const RECONCILIATION_CLASSES = [
  'matched',
  'never_received',
  'answered_non_2xx',
  'acked_late',
  'provider_failed',
] as const;
export type ReconciliationClass = (typeof RECONCILIATION_CLASSES)[number];

/**
 * One row per provider-side delivery (all attempts of one event to one provider webhook), as the
 * last reconciliation saw it. `chain_key` groups the attempts: the provider's delivery id, or a content
 * fingerprint when its ids change per attempt. Rewritten by every run, so it is a snapshot, not a log.
 */
export const reconciliationDeliveries = pgTable(
  'reconciliation_deliveries',
  {
    id: id(),
    provider: text('provider').notNull(),
    webhookId: integer('webhook_id').notNull(),
    /** The source the webhook points at (its URL's `/api/webhooks/<slug>`); null when it points elsewhere. */
    source: text('source'),
    chainKey: text('chain_key').notNull(),
    /** The delivery id of the latest attempt. */
    deliveryId: text('delivery_id'),
    eventType: text('event_type').notNull(),
    class: text('class', { enum: RECONCILIATION_CLASSES }).notNull(),
    /** The provider's status of the latest attempt (`pending`, `delivered`, `failed`). */
    providerStatus: text('provider_status').notNull(),
    /** The provider has given up: no attempt delivered, none pending, none left. */
    exhausted: boolean('exhausted').notNull(),
    attemptNumber: integer('attempt_number').notNull(),
    attempts: integer('attempts').notNull(),
    firstSentAt: tsz('first_sent_at').notNull(),
    lastSentAt: tsz('last_sent_at').notNull(),
    /** While the provider still retries: when its last attempt times out. Null otherwise. */
    retryDeadlineAt: tsz('retry_deadline_at'),
    /** What the provider recorded for its latest attempt. */
    providerResponseStatus: integer('provider_response_status'),
    /** What we answered, from our latest receipt for this delivery; null when none reached us. */
    receiptId: bigint('receipt_id', { mode: 'number' }),
    ourHttpStatus: integer('our_http_status'),
    ourOutcome: text('our_outcome'),
    ourReason: text('our_reason'),
    ourAckMs: real('our_ack_ms'),
    checkedAt: tsz('checked_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('reconciliation_deliveries_chain_uq').on(t.provider, t.webhookId, t.chainKey),
    index('reconciliation_deliveries_sent_idx').on(t.lastSentAt, t.id),
    index('reconciliation_deliveries_class_idx').on(t.class, t.lastSentAt),
    check(
      'reconciliation_deliveries_class_ck',
      sql`${t.class} in ('matched', 'never_received', 'answered_non_2xx', 'acked_late', 'provider_failed')`,
    ),
  ],
);

export const RECONCILIATION_RUN_STATES = ['running', 'done', 'failed', 'abandoned'] as const;

/**
 * Reconciliation runs, which double as the lease: at most one row is `running` (partial unique
 * index), so across replicas one runner reads the provider's log at a time; a runner that died is
 * taken over once `lease_until` has passed.
 */
export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: id(),
    state: text('state', { enum: RECONCILIATION_RUN_STATES }).notNull().default('running'),
    trigger: text('trigger').notNull(),
    actor: text('actor'),
    startedAt: tsz('started_at').notNull().defaultNow(),
    leaseUntil: tsz('lease_until').notNull(),
    finishedAt: tsz('finished_at'),
    webhooks: integer('webhooks').notNull().default(0),
    pages: integer('pages').notNull().default(0),
    providerRows: integer('provider_rows').notNull().default(0),
    /** 429 answers from the provider that this run waited out. */
    rateLimited: integer('rate_limited').notNull().default(0),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('reconciliation_runs_one_running_uq').on(t.state).where(sql`${t.state} = 'running'`),
    index('reconciliation_runs_started_idx').on(t.startedAt),
    check('reconciliation_runs_state_ck', sql`${t.state} in ('running', 'done', 'failed', 'abandoned')`),
  ],
);

export type ReconciliationDeliveryRow = typeof reconciliationDeliveries.$inferSelect;
export type ReconciliationDeliveryInsert = typeof reconciliationDeliveries.$inferInsert;
export type ReconciliationRunRow = typeof reconciliationRuns.$inferSelect;
// ---- payload shapes and drift (issue 17) ----

/**
 * What the learner knows of each (source, event type): how many deliveries it has learned from, the
 * last event it read, and whether the path cap was reached (paths past it are not tracked).
 */
export const payloadShapeTypes = pgTable(
  'payload_shape_types',
  {
    source: text('source').notNull(),
    eventType: text('event_type').notNull(),
    samples: integer('samples').notNull().default(0),
    capped: boolean('capped').notNull().default(false),
    lastEventId: bigint('last_event_id', { mode: 'number' }).notNull(),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.eventType] })],
);

/** One field path of a learned shape (`data.contact.email`, `data.tags[]`) and the JSON types seen there. */
export const payloadShapes = pgTable(
  'payload_shapes',
  {
    source: text('source').notNull(),
    eventType: text('event_type').notNull(),
    path: text('path').notNull(),
    /** Sorted, comma-separated JSON types (`null,string`); `integer` counts as `number`. */
    types: text('types').notNull(),
    /** Learned deliveries that had the path. */
    seen: integer('seen').notNull().default(0),
    /** Learned deliveries in a row, up to the latest, that lacked it. */
    missingRun: integer('missing_run').notNull().default(0),
    /** The first delivery of the current run without it (the one a `missing_field` names). */
    missingSinceEventId: bigint('missing_since_event_id', { mode: 'number' }),
    firstEventId: bigint('first_event_id', { mode: 'number' }).notNull(),
    firstSeenAt: tsz('first_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.eventType, t.path] })],
);

export const PAYLOAD_DRIFT_KINDS = ['new_field', 'missing_field', 'type_change'] as const;
export type PayloadDriftKind = (typeof PAYLOAD_DRIFT_KINDS)[number];

/** A change in a payload's shape, recorded once, with the first delivery (event) that showed it. */
export const payloadDrift = pgTable(
  'payload_drift',
  {
    id: id(),
    source: text('source').notNull(),
    eventType: text('event_type').notNull(),
    path: text('path').notNull(),
    kind: text('kind', { enum: PAYLOAD_DRIFT_KINDS }).notNull(),
    /** The types before and after for a type change (`string → number`); empty otherwise. */
    detail: text('detail').notNull().default(''),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    detectedAt: tsz('detected_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payload_drift_uq').on(t.source, t.eventType, t.path, t.kind, t.detail),
    index('payload_drift_detected_idx').on(t.detectedAt, t.id),
    check('payload_drift_kind_ck', sql`${t.kind} in ('new_field', 'missing_field', 'type_change')`),
  ],
);
// ---- Alerts: incidents raised by the rule engine (issue 15) ----

/** Every rule the engine knows; each has defaults in lib/alerts/rules.ts and an optional override row. */
export const ALERT_RULES = [
  'webhook_disabled',
  'signature_failures',
  'provider_failed',
  'silence',
  'lag_high',
  'backlog',
  'dlq_growth',
  'storage',
  'payload_drift',
  'malformed',
  'rule_blind',
  'provider_notice',
  'receiver_unavailable',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const ALERT_SEVERITIES = ['critical', 'warning'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * One incident per rule and subject (a source, an event type, '*'). The partial unique index is what
 * makes it one: two evaluators racing (a lease that expired mid-run) cannot open a second row.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: id(),
    rule: text('rule', { enum: ALERT_RULES }).notNull(),
    subject: text('subject').notNull(),
    severity: text('severity', { enum: ALERT_SEVERITIES }).notNull(),
    state: text('state', { enum: ALERT_STATES }).notNull().default('open'),
    summary: text('summary').notNull(),
    /** What the evaluator saw last: evidence, events at risk, the provider's deadline, what to do. */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    openedAt: tsz('opened_at').notNull().defaultNow(),
    lastSeenAt: tsz('last_seen_at').notNull().defaultNow(),
    /** Set while the condition is clear; the alert resolves once it has stayed clear long enough. */
    clearSince: tsz('clear_since'),
    acknowledgedAt: tsz('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: tsz('resolved_at'),
  },
  (t) => [
    uniqueIndex('alerts_active_uq').on(t.rule, t.subject).where(sql`${t.state} <> 'resolved'`),
    index('alerts_state_idx').on(t.state, t.id),
    index('alerts_resolved_idx').on(t.rule, t.subject, t.resolvedAt),
    check('alerts_state_ck', sql`${t.state} in ('open', 'acknowledged', 'resolved')`),
  ],
);

/** An operator's change to a rule's defaults; a rule without a row runs with its defaults. */
export const alertRules = pgTable('alert_rules', {
  rule: text('rule', { enum: ALERT_RULES }).primaryKey(),
  enabled: boolean('enabled').notNull(),
  threshold: doublePrecision('threshold').notNull(),
  windowMinutes: integer('window_minutes').notNull(),
  updatedAt: tsz('updated_at').notNull().defaultNow(),
  updatedBy: text('updated_by'),
});

// 'lost': an active incident's events went past the provider's last retry (told even if acknowledged).
export const ALERT_TRANSITIONS = ['opened', 'reopened', 'acknowledged', 'lost', 'resolved'] as const;
export type AlertTransition = (typeof ALERT_TRANSITIONS)[number];

/**
 * Outbox of state changes for the alert channel, written in the transaction that changes the alert:
 * a dead channel delays the message, never the evaluation, and every failure stays visible here.
 */
export const alertNotifications = pgTable(
  'alert_notifications',
  {
    id: id(),
    alertId: bigint('alert_id', { mode: 'number' })
      .notNull()
      .references(() => alerts.id, { onDelete: 'cascade' }),
    transition: text('transition', { enum: ALERT_TRANSITIONS }).notNull(),
    text: text('text').notNull(),
    createdAt: tsz('created_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tsz('next_attempt_at').notNull().defaultNow(),
    deliveredAt: tsz('delivered_at'),
    /** Set when no channel is configured or the channel refused it for good (4xx). */
    abandonedAt: tsz('abandoned_at'),
    lastError: text('last_error'),
  },
  (t) => [
    index('alert_notifications_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.deliveredAt} is null and ${t.abandonedAt} is null`),
    index('alert_notifications_alert_idx').on(t.alertId, t.id),
  ],
);

/** Named leases: the holder runs the job until `expires_at`; another replica takes over after it. */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: tsz('expires_at').notNull(),
});

export type AlertRow = typeof alerts.$inferSelect;
export type AlertRuleRow = typeof alertRules.$inferSelect;

import { z } from 'zod';
import { FAILURE_CLASSES, PROCESSING_FILTERS } from '@/db/filters';
import {
  ALERT_RULES,
  ALERT_STATES,
  AUDIT_ACTIONS,
  EVENT_STATUSES,
  RECEIPT_OUTCOMES,
  RECONCILIATION_CLASSES,
  ROLES,
  SOURCE_SLUG_PATTERN,
} from '@/db/schema';
import { PROVIDER_NAMES } from '@/lib/providers/registry';
import { customRangeProblem } from '@/lib/time-range';

// Request shapes of the JSON API (CONTRACT.md "JSON API"). Objects are strict: an unknown field is a
// 400 that names it, so a typo in a script never silently means "no filter".

export const MAX_LIMIT = 200;
export const DEFAULT_LIMIT = 50;
export const MAX_FILTER_CHARS = 200;

const filterText = z.string().trim().min(1).max(MAX_FILTER_CHARS, `at most ${MAX_FILTER_CHARS} characters`);
const eventType = z
  .string()
  .trim()
  .min(1)
  .max(100, 'at most 100 characters')
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and . _ : - only');
// Postgres stores years 1 to 9999 (before that a BC date, after it an error): a time outside, after
// its offset, is the field's 400, not the query's 500.
const FIRST_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');
const isoTime = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .pipe(
    z
      .date()
      .min(new Date(FIRST_STORABLE_MS), 'must be in the years 0001 to 9999 (UTC)')
      .max(new Date('9999-12-31T23:59:59.999Z'), 'must be in the years 0001 to 9999 (UTC)'),
  );
/** Digits only: `z.coerce.number()` would also take `0x10`, `1e2` and ` 5`. */
const wholeNumber = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number')
  .transform(Number);
const limit = wholeNumber
  .pipe(z.number().min(1, 'must be at least 1').max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
  .default(DEFAULT_LIMIT);
const cursor = z.string().max(64, 'invalid cursor').optional();

type Range = { from?: Date; to?: Date };
/**
 * A time range's checks, one 400 naming the problem: `from` before `to`, and at most MAX_RANGE_MS
 * apart (the same rule the pages' custom range picker applies, lib/time-range.ts).
 */
const checkRange = <T extends Range>(v: T, ctx: z.core.$RefinementCtx<T>) => {
  const problem = v.from && v.to ? customRangeProblem(v.from, v.to) : null;
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['from'] });
};

const sourceSlug = z
  .string()
  .regex(SOURCE_SLUG_PATTERN, 'lower-case letters, digits and inner dashes, 1–48 characters');

/** Row ids in paths: positive integers that fit a bigint and a JS number. */
export const idParamSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer id')
    .transform(Number),
});

/**
 * Content search (db/queries/search.ts): `text` anywhere in the body, at least 3 characters (the
 * trigram index needs one whole trigram); `path` + `value`: a JSON path such as `data.contact.email`
 * equal to a value. `q` stays the delivery id prefix.
 */
const contentFields = {
  text: z
    .string()
    .min(3, 'at least 3 characters')
    .max(MAX_FILTER_CHARS, `at most ${MAX_FILTER_CHARS} characters`)
    .optional(),
  path: z
    .string()
    .max(MAX_FILTER_CHARS, `at most ${MAX_FILTER_CHARS} characters`)
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,15}$/, 'keys separated by dots, such as data.contact.email')
    .optional(),
  value: z.string().max(MAX_FILTER_CHARS, `at most ${MAX_FILTER_CHARS} characters`).optional(),
};
type ContentInput = { path?: string; value?: string };
const pathWithValue = <T extends ContentInput>(v: T) => (v.path === undefined) === (v.value === undefined);
const pathMessage = { message: '`path` and `value` go together', path: ['value'] };

/** `a,b,c`: one or more values of an enum, each at most once (a query key may not repeat). */
const enumList = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .max(200)
    .transform((s) => s.split(','))
    .pipe(
      z
        .array(z.enum(values))
        .min(1)
        .refine((a) => new Set(a).size === a.length, 'a value is given twice'),
    );

const deliveryFields = {
  source: sourceSlug.optional(),
  outcome: enumList(RECEIPT_OUTCOMES).optional(),
  /** Processing state of the delivery's event (accepted receipts have one). */
  status: z.enum(PROCESSING_FILTERS).optional(),
  event_type: eventType.optional(),
  q: filterText.optional(),
  ...contentFields,
  from: isoTime.optional(),
  to: isoTime.optional(),
};

export const deliveriesQuerySchema = z
  .strictObject({ ...deliveryFields, limit, cursor })
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);
export type DeliveriesQuery = z.infer<typeof deliveriesQuerySchema>;

const exportFormat = z.enum(['csv', 'ndjson']).default('csv');

/** GET /api/deliveries/export: the list's filters, every matching row. */
export const deliveriesExportQuerySchema = z
  .strictObject({ ...deliveryFields, format: exportFormat })
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);

/** The list's filters in their query-string form, so a page passes its URL state as it is. */
const deliveryFilterSchema = z
  .strictObject(deliveryFields)
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);

/** POST /api/deliveries/enqueue: queue every ignored or malformed receipt the filter matches. */
export const deliveriesEnqueueBodySchema = z.strictObject({
  filter: deliveryFilterSchema.default({}),
  dry_run: z.boolean().default(false),
});

export const eventsQuerySchema = z.strictObject({
  source: sourceSlug.optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  event_type: eventType.optional(),
  limit,
  cursor,
});
export type EventsQuery = z.infer<typeof eventsQuerySchema>;

const dlqFields = {
  source: sourceSlug.optional(),
  event_type: eventType.optional(),
  error: filterText.optional(),
  /** Delivery id, whole or its start. */
  q: filterText.optional(),
  failure: z.enum(FAILURE_CLASSES).optional(),
  ...contentFields,
};

export const dlqQuerySchema = z
  .strictObject({
    ...dlqFields,
    from: isoTime.optional(),
    to: isoTime.optional(),
    /** Only dead letters whose raw receipts are pruned within this many days (RETENTION_DAYS). */
    expiring_within_days: wholeNumber.pipe(z.number().min(1).max(3650)).optional(),
    sort: z.enum(['newest', 'expiring']).default('newest'),
    limit,
    cursor,
  })
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);
export type DlqQuery = z.infer<typeof dlqQuerySchema>;

const dlqFilter = z.strictObject({
  ...dlqFields,
  from: isoTime.optional(),
  to: isoTime.optional(),
});

/** GET /api/dlq/export: the dead-letter list's filters, every matching row. */
export const dlqExportQuerySchema = z
  .strictObject({ ...dlqFields, from: isoTime.optional(), to: isoTime.optional(), format: exportFormat })
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);

/** What a bulk retry with the same filter would match (GET /api/dlq/count, for the confirmation). */
export const dlqCountQuerySchema = dlqFilter.superRefine(checkRange).refine(pathWithValue, pathMessage);

/** What a bulk retry matches: every dead letter passing all given filters (none: all of them). */
export const dlqBulkRetryBodySchema = dlqFilter
  .extend({
    ids: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(1000).optional(),
    /** Answer the preview (what would be retried) and change nothing. */
    dry_run: z.boolean().default(false),
    /** Leave out dead letters whose object already has a newer stored state (they would be skipped). */
    exclude_superseded: z.boolean().default(false),
  })
  .superRefine(checkRange)
  .refine(pathWithValue, pathMessage);
export type DlqBulkRetryBody = z.infer<typeof dlqBulkRetryBodySchema>;

export const metricsQuerySchema = z
  .strictObject({
    from: isoTime.optional(),
    to: isoTime.optional(),
    event_type: eventType.optional(),
    source: sourceSlug.optional(),
  })
  .transform((v) => {
    const to = v.to ?? new Date();
    // The default hour before `to` starts no earlier than year 1 (Postgres's first).
    return { ...v, to, from: v.from ?? new Date(Math.max(to.getTime() - 3_600_000, FIRST_STORABLE_MS)) };
  })
  .superRefine(checkRange);
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

// ---- people, sessions, tokens and the audit (issue 18) ----

/** Lower-cased; one `@` with something on both sides (`admin@localhost` is valid on purpose). */
export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'at most 254 characters')
  // No control characters: Postgres refuses a NUL in text, which must be a 400, not a 500.
  .regex(/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u, 'must be an email address');
const noControl = (s: string) => !/\p{Cc}/u.test(s);
const role = z.enum(ROLES);
const newPassword = z.string().min(12, 'at least 12 characters').max(1024, 'at most 1024 characters');

const auditFilter = {
  actor: z
    .string()
    .trim()
    .min(1)
    .max(254, 'at most 254 characters')
    .refine(noControl, 'no control characters')
    .optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
};
export const auditQuerySchema = z.strictObject({ ...auditFilter, limit, cursor }).superRefine(checkRange);
export const auditExportQuery = z
  .strictObject({ ...auditFilter, format: exportFormat })
  .superRefine(checkRange);

export const loginBodySchema = z.strictObject({
  email: email.optional(),
  password: z.string().min(1, 'required').max(1024),
});

export const createUserBody = z.strictObject({ email, role, password: newPassword.optional() });
export const updateUserBody = z
  .strictObject({ role: role.optional(), disabled: z.boolean().optional() })
  .refine((v) => v.role !== undefined || v.disabled !== undefined, { message: 'give role or disabled' });

export const changePasswordBody = z.strictObject({
  current_password: z.string().min(1, 'required').max(1024),
  new_password: newPassword,
});

export const createTokenBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'required')
    .max(100, 'at most 100 characters')
    .refine(noControl, 'no control characters'),
  role,
});

export const webhookPatchBodySchema = z.strictObject({ is_active: z.boolean() });

export const providerWebhooksQuerySchema = z.strictObject({ provider: z.enum(PROVIDER_NAMES).optional() });

/** `status` is checked against the provider's own list by lib/api/webhooks.ts. */
export const providerDeliveriesQuerySchema = z.strictObject({
  provider: z.enum(PROVIDER_NAMES).optional(),
  status: z
    .string()
    .regex(/^[a-z_]{1,32}$/, 'a status name such as "failed"')
    .optional(),
  page: wholeNumber.pipe(z.number().min(1).max(100_000)).default(1),
});

export const sandboxOutageBodySchema = z.strictObject({ outage: z.boolean() });

export const sourceSlugParamSchema = z.object({ slug: sourceSlug });

const secretInput = z
  .string()
  .min(16, 'at least 16 characters')
  .max(512, 'at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const secretList = z
  .array(
    z.union([
      secretInput.transform((value) => ({ value })),
      z.strictObject({ value: secretInput, label: z.string().trim().min(1).max(100).optional() }),
    ]),
  )
  .max(10, 'at most 10 secrets');

export const sourceCreateBodySchema = z.strictObject({
  slug: sourceSlug,
  provider: z.enum(PROVIDER_NAMES),
  enabled: z.boolean().default(true),
  secrets: secretList.min(1, 'at least one secret: the provider signs every delivery'),
});

export const sourcePatchBodySchema = z
  .strictObject({ enabled: z.boolean().optional(), secrets: secretList.min(1).optional() })
  .refine((v) => v.enabled !== undefined || v.secrets !== undefined, { message: 'give enabled or secrets' });

// ---- Reconciliation (issue 15) ----

const reconciliationFilter = {
  source: sourceSlug.optional(),
  webhook_id: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer id')
    .transform(Number)
    .pipe(z.number().max(2 ** 31 - 1, 'must be a positive integer id'))
    .optional(),
  class: z.enum(RECONCILIATION_CLASSES).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
};
export const reconciliationQuerySchema = z
  .strictObject({ ...reconciliationFilter, limit, cursor })
  .superRefine(checkRange);
const { class: _class, ...summaryFilter } = reconciliationFilter;
export const reconciliationSummaryQuerySchema = z.strictObject(summaryFilter).superRefine(checkRange);
export const reconciliationExportQuerySchema = z
  .strictObject({ ...reconciliationFilter, format: z.enum(['csv', 'ndjson']).default('csv') })
  .superRefine(checkRange);
/** A run takes no options; an empty object (or no body) only, so a stray field is a 400 that starts nothing. */
export const reconciliationRunBodySchema = z.strictObject({});
export const sandboxLossesBodySchema = z.strictObject({});
/** Up to 30 days: how long the previous secrets stay accepted after a new one. */
const overlapSeconds = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400);

export const secretIdParamSchema = z.object({
  slug: sourceSlug,
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer id')
    .transform(Number),
});

export const secretAddBodySchema = z.strictObject({
  secret: secretInput,
  label: z.string().trim().min(1).max(100).optional(),
  overlap_seconds: overlapSeconds.optional(),
});

export const secretRotateBodySchema = z.strictObject({
  overlap_seconds: overlapSeconds.optional(),
  webhook_id: z.number().int().positive().optional(),
});
// ---- payload drift (issue 17) ----

export const payloadDriftQuerySchema = z
  .strictObject({
    source: sourceSlug.optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    limit: wholeNumber
      .pipe(z.number().min(1, 'must be at least 1').max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
      .default(20),
  })
  .superRefine(checkRange);
export const alertsQuerySchema = z.strictObject({
  state: z.enum([...ALERT_STATES, 'active']).optional(),
  limit,
  cursor,
});

export const alertRuleParamSchema = z.object({ rule: z.enum(ALERT_RULES) });

export const alertRulePatchBodySchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    threshold: z.number().finite().min(0).max(1e9).optional(),
    window_minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'give enabled, threshold or window_minutes' });

export const SANDBOX_FAULTS = ['webhook_disabled', 'webhook_repointed', 'wrong_secret', 'silence'] as const;

export const sandboxFaultBodySchema = z.strictObject({
  fault: z.enum(SANDBOX_FAULTS),
  on: z.boolean(),
  /** For `silence`: the event type to stop (default: the most frequent one). */
  event_type: eventType.optional(),
});

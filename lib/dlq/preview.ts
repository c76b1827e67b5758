import type { Db } from '@/db/client';
import type { Actor } from '@/db/queries/audit';
import {
  type DlqFilter,
  iterateDeadLetterPayloads,
  retryDeadLetters,
  type StoredVersion,
  storedVersions,
  versionKey,
} from '@/db/queries/dlq';
import { handlerFor } from '@/lib/worker/handlers';
import { epochMicros, type VersionTarget } from '@/lib/worker/handlers/types';
import { payloadData } from '@/lib/worker/worker';

/** What a bulk retry with this filter would touch: the dry run's answer. */
export type RetryPreview = {
  matched: number;
  by_event_type: Record<string, number>;
  /** Last errors, the most frequent first (at most BY_ERROR_MAX, the rest under "(other)"). */
  by_error: Record<string, number>;
  /** A newer state of the same object is already stored: the handler would skip them as stale. */
  superseded: number;
  /** The object's stored state is a deletion: there is nothing left for them to change. */
  missing_objects: number;
  /** When the oldest and newest of them arrived. */
  oldest: string | null;
  newest: string | null;
};

const BY_ERROR_MAX = 10;
const ERROR_KEY_CHARS = 160;

/**
 * The object and version a dead letter would claim, by its handler's own rule; null when the
 * handler does not version its object or the payload no longer parses (it would fail again).
 */
function targetOf(e: {
  id: number;
  source: string;
  provider: string;
  event_type: string;
  delivery_id: string;
  provider_ts: Date | null;
  payload_text: string;
}): VersionTarget | null {
  const { handler } = handlerFor(e.provider, e.event_type);
  if (!handler.target) return null;
  const event = {
    id: e.id,
    source: e.source,
    deliveryId: e.delivery_id,
    eventType: e.event_type,
    data: payloadData(e.payload_text),
    providerTs: e.provider_ts,
  };
  try {
    return handler.target(handler.parse(event.data), event);
  } catch {
    return null;
  }
}

/**
 * Would the handler skip this change? The same comparison as writeIfNewer, read-only, to the
 * microsecond (`receivedMicros` versions a deletion that has no version of its own).
 */
function isSuperseded(
  t: VersionTarget,
  eventId: number,
  receivedMicros: bigint,
  stored: StoredVersion | undefined,
): boolean {
  if (!stored) return false;
  if (t.version === null && !t.deleted) return stored.deleted;
  const v = t.version === null ? receivedMicros : epochMicros(t.version);
  const s = stored.versionMicros;
  return !(s < v || (s === v && !stored.deleted && (t.deleted || stored.eventId <= eventId)));
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

function topErrors(m: Map<string, number>): Record<string, number> {
  const sorted = [...m.entries()].sort((a, b) => b[1] - a[1]);
  const out = Object.fromEntries(sorted.slice(0, BY_ERROR_MAX));
  const rest = sorted.slice(BY_ERROR_MAX).reduce((n, [, c]) => n + c, 0);
  if (rest > 0) out['(other)'] = rest;
  return out;
}

/**
 * Reads every matching dead letter a page at a time (memory: one page, the tallies and the ids of
 * the superseded ones) and compares each with its object's stored version.
 */
export async function previewRetry(
  db: Db,
  f: DlqFilter,
): Promise<RetryPreview & { supersededIds: number[] }> {
  const byType = new Map<string, number>();
  const byError = new Map<string, number>();
  const supersededIds: number[] = [];
  let matched = 0;
  let missing = 0;
  let oldest: Date | null = null;
  let newest: Date | null = null;
  for await (const page of iterateDeadLetterPayloads(db, f)) {
    const targets = page.map(targetOf);
    const stored = await storedVersions(
      db,
      targets.filter((t): t is VersionTarget => t !== null),
    );
    page.forEach((e, i) => {
      matched++;
      bump(byType, e.event_type);
      bump(byError, (e.last_error ?? '(none)').slice(0, ERROR_KEY_CHARS));
      if (!oldest || e.created_at < oldest) oldest = e.created_at;
      if (!newest || e.created_at > newest) newest = e.created_at;
      const t = targets[i];
      if (!t) return;
      const s = stored.get(versionKey(t));
      if (isSuperseded(t, e.id, BigInt(e.created_us), s)) supersededIds.push(e.id);
      if (s?.deleted) missing++;
    });
  }
  return {
    matched,
    by_event_type: Object.fromEntries(byType),
    by_error: topErrors(byError),
    superseded: supersededIds.length,
    missing_objects: missing,
    oldest: (oldest as Date | null)?.toISOString() ?? null,
    newest: (newest as Date | null)?.toISOString() ?? null,
    supersededIds,
  };
}

/**
 * The bulk retry behind POST /api/dlq/retry: the preview alone (`dry_run`), or the retry, leaving out
 * the superseded dead letters when asked. The preview and the retry are two steps: a dead letter
 * superseded between them is still retried, and its handler then skips it as stale.
 */
export async function bulkRetry(
  db: Db,
  f: DlqFilter,
  opts: { dryRun: boolean; excludeSuperseded: boolean },
  who: Actor,
) {
  if (opts.dryRun) {
    const { supersededIds: _, ...preview } = await previewRetry(db, f);
    return { dry_run: true as const, ...preview };
  }
  const excludeIds = opts.excludeSuperseded ? (await previewRetry(db, f)).supersededIds : [];
  const r = await retryDeadLetters(db, { ...f, excludeIds }, who);
  return { dry_run: false as const, matched: r.matched, excluded: excludeIds.length };
}

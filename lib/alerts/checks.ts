import type { Db } from '@/db/client';
import { percentiles } from '@/db/histogram';
import {
  acceptedSince,
  activeMinutesBySourceType,
  databaseBytes,
  dueBacklog,
  latencySince,
  malformedPerSource,
  newDeadLetters,
  noticesSince,
  type RetriedRefusal,
  recentReceipts,
  refusedBetween,
  refusedPerMinute,
} from '@/db/queries/alert-signals';
import { activeIncidents, type Finding } from '@/db/queries/alerts';
import type { AlertRule } from '@/db/schema';
import { payloadDriftSince } from '@/lib/payload/learner';
import { eventNote } from '@/lib/providers/catalog';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import { rejectionCauses } from '@/lib/sources/rejections';
import type { BlindRule } from './blind';
import { type EffectiveRule, RULE_DEFINITIONS } from './rules';
import { LEARNING_WINDOW_MS, type Silence, silenceOf } from './silence';
import { type SignatureSummary, signatureSummary } from './summaries';
import type { WatchdogResult } from './watchdog';

export type SourceRef = { slug: string; provider: ProviderName };

export type CheckContext = {
  db: Db;
  now: Date;
  sources: SourceRef[];
  retentionDays: number;
  /** What the management-API watchdog saw this round (null when no provider has an API here). */
  watchdog: WatchdogResult | null;
  /** Disk of the embedded database's folder; null when the database is elsewhere. */
  disk: () => Promise<{ usedPct: number; freeBytes: number } | null>;
  /** Replaceable so signature forensics (issue 16) can give the cause breakdown. */
  summarizeSignatures?: SignatureSummary;
  /** The rules that could not look this round and since when (set before rule_blind runs). */
  blind?: BlindRule[];
};

/** A rule's findings, or 'unobserved' when it could not look this round (its incidents stay as they are). */
export type CheckResult = Finding[] | 'unobserved';

const SAMPLE = 20;
/** dlq_growth needs at least this many: one odd payload is the DLQ page's business, not a page. */
const MIN_DEAD_LETTERS = 3;

/**
 * The lowest share `k` of `n` is consistent with, at 95 % confidence (Wilson score interval). A share
 * of a few deliveries is mostly chance: 5 dead letters of the first 41 accepted are 12 % while the
 * source fails 5 % of its payloads, and a rule checked every 30 s meets such a run sooner or later.
 * Against the lower bound, a high share alerts only once there are enough deliveries to show it.
 */
export function shareLowerBound(k: number, n: number): number {
  if (n <= 0) return 0;
  const z = 1.96;
  const p = Math.min(1, k / n);
  const z2n = (z * z) / n;
  return Math.max(0, (p + z2n / 2 - z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n));
}
const iso = (d: Date | number) => new Date(d).toISOString();
const minutesAgo = (now: Date, m: number) => new Date(now.getTime() - m * 60_000);
const retryWindowOf = (provider: ProviderName | undefined) =>
  provider ? providerOf(provider).delivery.retryWindowMs : null;

/** One source's burst of refusals the provider retries, and where its retries stand. */
type RefusalBurst = {
  source: string;
  total: number;
  since: Date;
  first: Date;
  sample: Awaited<ReturnType<typeof recentReceipts>>;
  standing: {
    at_risk: Array<Record<string, unknown>>;
    deadline_at: string | null;
    lost: boolean;
    lost_count?: number;
  };
};

/**
 * The sources with at least the rule's threshold of `outcome` refusals in its window, each with the
 * deadline of the oldest refusal the provider may still be retrying (anchored there, it does not
 * slide with the rule's window while the refusals go on) and whether refusals from before the retry
 * window exist while refusals go on: deliveries whose every retry was refused, lost. Refusals are
 * counted per minute, so a minute is lost only once all of it is past the window (a refusal at its
 * last second is retried that much longer), and its deadline is its first second's.
 */
async function refusalBursts(
  ctx: CheckContext,
  r: EffectiveRule,
  outcome: RetriedRefusal,
): Promise<RefusalBurst[]> {
  const since = minutesAgo(ctx.now, r.windowMinutes);
  const perMinute = await refusedPerMinute(ctx.db, since, outcome);
  const providerOfSource = new Map(ctx.sources.map((s) => [s.slug, s.provider]));
  const out: RefusalBurst[] = [];
  for (const source of new Set(perMinute.map((m) => m.source))) {
    const minutes = perMinute.filter((m) => m.source === source);
    const total = minutes.reduce((s, m) => s + m.n, 0);
    if (total < r.threshold) continue;
    const sample = await recentReceipts(ctx.db, source, outcome, since, 50);
    const window = retryWindowOf(providerOfSource.get(source));
    const settled = ctx.now.getTime() - (window ?? 0) - 60_000;
    const retrying =
      window === null ? null : await refusedBetween(ctx.db, source, outcome, new Date(settled), ctx.now);
    const expired =
      window === null
        ? null
        : await refusedBetween(
            ctx.db,
            source,
            outcome,
            new Date(settled - r.windowMinutes * 60_000),
            new Date(settled),
          );
    const first = retrying?.first ?? minutes.find((m) => m.n > 0)?.minute ?? ctx.now;
    out.push({
      source,
      total,
      since,
      first,
      sample,
      standing: {
        at_risk: sample.slice(0, SAMPLE).map((s) => ({
          delivery_id: s.delivery_id,
          source: s.source,
          reason: s.reason,
          http_status: s.http_status,
          at: iso(s.received_at),
        })),
        // The provider retries a refused delivery on its schedule; the first refused one is given up first.
        deadline_at: window !== null ? iso(first.getTime() + window) : null,
        lost: (expired?.n ?? 0) > 0,
        // Refused requests, retries included: a provider whose ids are per attempt cannot have its
        // deliveries told apart here (provider_failed, from its log, can).
        ...(expired && expired.n > 0 ? { lost_count: expired.n } : {}),
      },
    });
  }
  return out;
}

export const CHECKS: Record<AlertRule, (ctx: CheckContext, r: EffectiveRule) => Promise<CheckResult>> = {
  webhook_disabled: async (ctx) => ctx.watchdog?.webhookDisabled ?? 'unobserved',

  provider_notice: async (ctx, r) => {
    const since = minutesAgo(ctx.now, r.windowMinutes);
    const providers = [...new Set(ctx.sources.map((s) => s.provider))];
    const types = providers.map((p) => ({ provider: p, eventTypes: providerOf(p).noticeEvents }));
    const notices = await noticesSince(ctx.db, since, types, SAMPLE);
    return notices
      .filter((s) => s.n >= Math.max(1, r.threshold))
      .map((s) => {
        const provider = ctx.sources.find((x) => x.slug === s.source)?.provider;
        const note = (type: string) => (provider && eventNote(provider, type)) || type;
        const latest = s.latest[0]!;
        return {
          rule: 'provider_notice' as const,
          subject: s.source,
          severity: 'critical' as const,
          summary: `${s.source}: ${s.n} provider notice(s) in ${r.windowMinutes} min; latest: ${note(latest.event_type)} (${latest.event_type})`,
          detail: {
            evidence: { notices: s.n, window_minutes: r.windowMinutes },
            // What the provider said, so the delivery it gave up on can be found in its dashboard.
            at_risk: s.latest.map((e) => ({
              event_id: e.id,
              delivery_id: e.delivery_id,
              event_type: e.event_type,
              note: note(e.event_type),
              said: JSON.stringify((e.payload as { data?: unknown } | null)?.data ?? null).slice(0, 300),
              at: iso(e.created_at),
            })),
            deadline_at: null,
            lost: false,
            action:
              "The provider's: it gave up on a delivery to us, or a webhook keeps failing. Find the delivery in its dashboard (the notice names it) and replay it there, or fetch the object from its API; check the Reconciliation and Alerts pages for why ours failed.",
          },
        };
      });
  },

  rule_blind: async (ctx, r) => {
    if (!ctx.blind) return 'unobserved';
    const out: Finding[] = [];
    for (const b of ctx.blind) {
      const blindMs = ctx.now.getTime() - Date.parse(b.since);
      if (blindMs < r.windowMinutes * 60_000) continue;
      const label = RULE_DEFINITIONS[b.rule].label;
      out.push({
        rule: 'rule_blind',
        subject: b.rule,
        severity: 'critical',
        summary: `"${label}" has not been able to look for ${Math.floor(blindMs / 60_000)} min (${b.reason}); what it watches for goes unseen until it can`,
        detail: {
          evidence: { rule: b.rule, since: b.since, reason: b.reason },
          at_risk: [],
          deadline_at: null,
          lost: false,
          action: `Ours to fix, or the provider's: ${b.reason}. Until then, check what "${label}" watches by hand (the provider's dashboard, the Reconciliation page).`,
        },
      });
    }
    return out;
  },

  provider_failed: async (ctx) => ctx.watchdog?.providerFailed ?? 'unobserved',

  signature_failures: async (ctx, r) => {
    const summarize = ctx.summarizeSignatures ?? signatureSummary;
    const out: Finding[] = [];
    for (const burst of await refusalBursts(ctx, r, 'rejected')) {
      const { source, total, since, sample } = burst;
      // Signature forensics (README, "Why a signature was refused") name the likely cause per refusal.
      const causes = await rejectionCauses(ctx.db, { source, since, until: ctx.now });
      const base = summarize({ total, windowMinutes: r.windowMinutes, refusals: sample });
      out.push({
        rule: 'signature_failures',
        subject: source,
        severity: 'critical',
        summary: causes.total > 0 ? `${base}; diagnosed: ${causes.summary}` : base,
        detail: {
          evidence: {
            refused: total,
            window_minutes: r.windowMinutes,
            first_minute: iso(burst.first),
            causes: causes.causes.map((c) => ({ cause: c.cause, label: c.label, count: c.count })),
          },
          ...burst.standing,
          action:
            'Compare the signing secret in the provider with the source’s secrets (Webhooks page, Secrets…); add the new one so both verify during the rotation. Refused deliveries are retried by the provider until the deadline.',
        },
      });
    }
    return out;
  },

  receiver_unavailable: async (ctx, r) =>
    (await refusalBursts(ctx, r, 'unavailable')).map((burst) => {
      const reasons = [...new Set(burst.sample.map((s) => s.reason ?? 'unknown'))].slice(0, 3).join(', ');
      return {
        rule: 'receiver_unavailable' as const,
        subject: burst.source,
        severity: 'critical' as const,
        summary: `${burst.source}: ${burst.total} deliver${burst.total === 1 ? 'y' : 'ies'} answered 503 in ${r.windowMinutes} min${reasons ? ` (latest stored: ${reasons})` : ''}`,
        detail: {
          evidence: {
            answered_503: burst.total,
            window_minutes: r.windowMinutes,
            first_minute: iso(burst.first),
          },
          ...burst.standing,
          action:
            'Ours: the receiver could not commit in time (the database down, busy or locked; too many bodies from one address). The provider retries each until the deadline: find the cause (the Health badge, the log, `receipts` with outcome unavailable) before it.',
        },
      };
    }),

  silence: async (ctx, r) => {
    // Per source and type: with two accounts sending the same types, one that stops is not hidden
    // by the other that goes on.
    const active = await activeMinutesBySourceType(ctx.db, new Date(ctx.now.getTime() - LEARNING_WINDOW_MS));
    const out: Finding[] = [];
    const finding = (subject: string, s: Silence, lastSeen: number): Finding => {
      const quietMin = Math.round(s.quietMs / 60_000);
      return {
        rule: 'silence',
        subject,
        severity: 'warning',
        summary: `${subject}: nothing for ${quietMin} min; it usually arrives at least every ${Math.max(1, Math.round(s.usualGapMs / 60_000))} min`,
        detail: {
          evidence: {
            quiet_minutes: quietMin,
            limit_minutes: Math.round(s.limitMs / 60_000),
            usual_gap_minutes: Math.round(s.usualGapMs / 60_000),
            active_minutes_24h: s.activeMinutes,
            last_seen_at: iso(lastSeen),
          },
          at_risk: [],
          deadline_at: null,
          lost: false,
          action:
            'Check the webhook’s event subscriptions and filters in the provider’s dashboard, and the provider’s status page. Events the provider never sends are not in its delivery log either.',
        },
      };
    };
    // A source disabled or deleted is not silent: it was stopped (its incidents resolve).
    const watched = new Set(ctx.sources.map((s) => s.slug));
    for (const [subject, { source, minutes }] of active) {
      if (!watched.has(source)) continue;
      const s = silenceOf(minutes, ctx.now.getTime(), r.threshold, r.windowMinutes * 60_000);
      if (s) out.push(finding(subject, s, minutes[minutes.length - 1]!));
    }
    // A long silence empties the learning window (a type with too few recent minutes is never called
    // silent, one with none is not listed at all): an open incident stays open until the type arrives
    // again, with the figures it opened with. One opened before silence was per source has the type
    // alone as its subject: any source's delivery of that type ends it.
    const latestOfType = new Map<string, number>();
    for (const { eventType, minutes } of active.values()) {
      latestOfType.set(eventType, Math.max(latestOfType.get(eventType) ?? 0, minutes.at(-1)!));
    }
    const found = new Set(out.map((f) => f.subject));
    for (const incident of await activeIncidents(ctx.db, 'silence')) {
      if (found.has(incident.subject)) continue;
      const source = incident.subject.includes(':') ? incident.subject.split(':')[0]! : null;
      if (source !== null && !watched.has(source)) continue;
      const e = (incident.detail as { evidence?: Record<string, unknown> }).evidence ?? {};
      const lastSeen = Date.parse(String(e.last_seen_at));
      const own = active.get(incident.subject);
      const latest = own ? own.minutes.at(-1) : latestOfType.get(incident.subject);
      if (!Number.isFinite(lastSeen) || (latest !== undefined && latest > lastSeen)) continue;
      out.push(
        finding(
          incident.subject,
          {
            quietMs: ctx.now.getTime() - (lastSeen + 60_000),
            limitMs: Number(e.limit_minutes) * 60_000,
            usualGapMs: Number(e.usual_gap_minutes) * 60_000,
            activeMinutes: own?.minutes.length ?? 0,
          },
          lastSeen,
        ),
      );
    }
    return out;
  },

  lag_high: async (ctx, r) => {
    const out: Finding[] = [];
    for (const { slug } of ctx.sources) {
      const hist = await latencySince(ctx.db, minutesAgo(ctx.now, r.windowMinutes), 'lag', slug);
      const n = Object.values(hist).reduce((s, v) => s + v, 0);
      const [p95] = percentiles(hist, [0.95]);
      // A handful of late retries is not a trend.
      if (n < 10 || p95 == null || p95 < r.threshold) continue;
      out.push({
        rule: 'lag_high',
        subject: slug,
        severity: 'warning',
        summary: `${slug}: delivery lag p95 ${(p95 / 1000).toFixed(1)} s over the last ${r.windowMinutes} min (limit ${(r.threshold / 1000).toFixed(1)} s)`,
        detail: {
          evidence: { p95_ms: Math.round(p95), deliveries: n, window_minutes: r.windowMinutes },
          at_risk: [],
          deadline_at: null,
          lost: false,
          action:
            'Growing lag is on the provider’s side (their queue or retries). Check their status page; nothing is lost while deliveries still arrive.',
        },
      });
    }
    return out;
  },

  backlog: async (ctx, r) => {
    const rows = await dueBacklog(ctx.db, ctx.now);
    return rows
      .filter((b) => ctx.now.getTime() - b.oldest.getTime() >= r.threshold * 1000)
      .map((b) => {
        const waitS = Math.round((ctx.now.getTime() - b.oldest.getTime()) / 1000);
        return {
          rule: 'backlog' as const,
          subject: b.source,
          severity: 'warning' as const,
          summary: `${b.source}: ${b.n} event(s) waiting; the oldest for ${waitS} s`,
          detail: {
            evidence: { waiting: b.n, oldest_wait_seconds: waitS, oldest_due_at: iso(b.oldest) },
            at_risk: [],
            deadline_at: null,
            lost: false,
            action:
              'Ours: the worker is down, paused or too slow. Check that a worker runs (WORKER_INLINE or the worker process) and its logs. Nothing is lost: the events are stored.',
          },
        };
      });
  },

  dlq_growth: async (ctx, r) => {
    const since = minutesAgo(ctx.now, r.windowMinutes);
    const rows = await newDeadLetters(ctx.db, since, SAMPLE);
    if (rows.length === 0) return [];
    // Each source's share against its own accepted deliveries: a busy source must not hide another
    // source whose every event dies.
    const acceptedBySource = await acceptedSince(ctx.db, since);
    const acceptedOf = (source: string) => Math.max(1, acceptedBySource.get(source) ?? 0);
    const keepMs = ctx.retentionDays * 86_400_000;
    return rows
      .filter(
        (d) => d.n >= MIN_DEAD_LETTERS && shareLowerBound(d.n, acceptedOf(d.source)) * 100 >= r.threshold,
      )
      .map((d) => {
        const accepted = acceptedOf(d.source);
        return {
          rule: 'dlq_growth' as const,
          subject: d.source,
          severity: 'warning' as const,
          summary: `${d.source}: ${d.n} new dead letter(s) in ${r.windowMinutes} min (${Math.round((d.n / accepted) * 100)} % of ${accepted} accepted); latest: ${d.latest[0]?.event_type ?? '?'} (${(d.latest[0]?.last_error ?? '').slice(0, 120)})`,
          detail: {
            evidence: { new_dead_letters: d.n, accepted, window_minutes: r.windowMinutes },
            at_risk: d.latest.map((e) => ({
              event_id: e.id,
              delivery_id: e.delivery_id,
              event_type: e.event_type,
              error: e.last_error?.slice(0, 200) ?? null,
              at: iso(e.dead_at),
            })),
            // Their raw receipts are pruned after RETENTION_DAYS (Dead letters page, "kept for"): the
            // oldest of all of them (a replayed old delivery can die now), not of the sample.
            deadline_at: iso(d.oldestCreated.getTime() + keepMs),
            deadline_of: 'retention',
            lost: false,
            action:
              'Ours: fix the handler or its downstream, then retry from the Dead letters page. The payloads are stored; their raw receipts are kept until the deadline.',
          },
        };
      });
  },

  payload_drift: async (ctx, r) => {
    const since = minutesAgo(ctx.now, r.windowMinutes);
    const out: Finding[] = [];
    for (const source of ctx.sources) {
      const drift = await payloadDriftSince(ctx.db, since, source.slug);
      if (drift.total < r.threshold) continue;
      const parts = [
        drift.byKind.new_field ? `${drift.byKind.new_field} new field(s)` : null,
        drift.byKind.missing_field ? `${drift.byKind.missing_field} missing field(s)` : null,
        drift.byKind.type_change ? `${drift.byKind.type_change} type change(s)` : null,
      ].filter(Boolean);
      const first = drift.latest[0];
      out.push({
        rule: 'payload_drift',
        subject: source.slug,
        severity: 'warning',
        summary: `${source.slug}: ${parts.join(', ')} in ${r.windowMinutes} min${first ? `; latest: ${first.event_type} ${first.path} (${first.kind})` : ''}`,
        detail: {
          evidence: { ...drift.byKind, window_minutes: r.windowMinutes },
          at_risk: drift.latest.map((d) => ({
            event_id: d.event_id,
            receipt_id: d.receipt_id,
            event_type: d.event_type,
            path: d.path,
            kind: d.kind,
            detail: d.detail,
            at: iso(d.detected_at),
          })),
          deadline_at: null,
          lost: false,
          action:
            'The provider changed its payload. Open the first delivery that showed it (Overview, "Payload changes") and check the handler still reads what it needs; deliveries keep arriving and are stored.',
        },
      });
    }
    return out;
  },

  malformed: async (ctx, r) => {
    const since = minutesAgo(ctx.now, r.windowMinutes);
    const counts = await malformedPerSource(ctx.db, since);
    const keepMs = ctx.retentionDays * 86_400_000;
    const out: Finding[] = [];
    for (const [source, n] of counts) {
      if (n < r.threshold) continue;
      const latest = await recentReceipts(ctx.db, source, 'malformed', since, SAMPLE);
      const oldest = latest.at(-1)?.received_at.getTime() ?? ctx.now.getTime();
      out.push({
        rule: 'malformed',
        subject: source,
        severity: 'critical',
        summary: `${source}: ${n} signed deliver${n === 1 ? 'y' : 'ies'} we could not read in ${r.windowMinutes} min${latest[0] ? `; latest: ${latest[0].reason}` : ''}`,
        detail: {
          evidence: { malformed: n, window_minutes: r.windowMinutes },
          at_risk: latest.map((m) => ({
            receipt_id: m.id,
            delivery_id: m.delivery_id,
            reason: m.reason,
            at: iso(m.received_at),
          })),
          // Acknowledged and not queued: their raw bodies on the receipts are all there is, until retention.
          deadline_at: iso(oldest + keepMs),
          deadline_of: 'retention',
          lost: false,
          action:
            'Signed deliveries we answered 200 but could not read: the provider changed its envelope, or our parser is wrong. Their events were not queued; the raw bodies are on the receipts (Deliveries, outcome malformed) until the deadline. Fix the parser, then queue them again by hand.',
        },
      });
    }
    return out;
  },

  storage: async (ctx, r) => {
    const bytes = await databaseBytes(ctx.db);
    const disk = await ctx.disk();
    const gb = bytes !== null ? bytes / 1e9 : null;
    const overSize = gb !== null && gb >= r.threshold;
    const lowDisk = disk !== null && disk.usedPct >= 90;
    if (!overSize && !lowDisk) return [];
    const parts = [
      gb !== null ? `database ${gb.toFixed(2)} GB (limit ${r.threshold} GB)` : null,
      disk ? `disk ${disk.usedPct.toFixed(0)} % used, ${(disk.freeBytes / 1e9).toFixed(1)} GB free` : null,
    ].filter(Boolean);
    return [
      {
        rule: 'storage',
        subject: 'database',
        severity: 'critical',
        summary: `Storage: ${parts.join('; ')}`,
        detail: {
          evidence: {
            database_bytes: bytes,
            disk_used_pct: disk?.usedPct ?? null,
            disk_free_bytes: disk?.freeBytes ?? null,
          },
          at_risk: [],
          deadline_at: null,
          lost: false,
          action:
            'Ours: a full disk stops the receiver from persisting, and the provider then retries and gives up. Lower RETENTION_DAYS or add space.',
        },
      },
    ];
  },
};

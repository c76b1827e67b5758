import type { listAudit } from '@/db/queries/audit';
import type { getDelivery, listDeliveries } from '@/db/queries/deliveries';
import type { getEvent, listDeadLetters } from '@/db/queries/dlq';
import type { listPayloadDrift } from '@/db/queries/payload-shapes';
import type { listSessions, listTokens, listUsers } from '@/db/queries/users';
import type { Health } from '@/lib/health';
import type { RetryRateRow, Summary } from '@/lib/metrics/dashboard';
import type { LatencyPoint } from '@/lib/metrics/series';
import type { DeliveryComparisons } from '@/lib/payload/compare';
import type { reconciliationSummary } from '@/lib/reconciliation/summary';
import type { ReconciliationView } from '@/lib/reconciliation/view';
import type { SourceSecretsView } from '@/lib/sources/secrets';
import type { SourceView } from '@/lib/sources/service';

/** What a value looks like after JSON: dates become ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends Array<infer U>
    ? Array<Json<U>>
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

type Rows<F extends (...a: never[]) => Promise<{ rows: unknown[] }>> = Json<Awaited<ReturnType<F>>['rows']>;

export type DeliveryRow = Rows<typeof listDeliveries>[number];
export type DeliveryDetail = Json<NonNullable<Awaited<ReturnType<typeof getDelivery>>>>;
export type DeadLetterRow = Rows<typeof listDeadLetters>[number];
export type EventDetail = Json<NonNullable<Awaited<ReturnType<typeof getEvent>>>>;
export type AuditRow = Rows<typeof listAudit>[number];
export type DeliveryComparisonsJson = Json<DeliveryComparisons>;
export type PayloadDriftRow = Json<Awaited<ReturnType<typeof listPayloadDrift>>[number]>;
export type SourceRowJson = Json<SourceView>;
export type SourceSecretsJson = Json<SourceSecretsView>;
export type UserRow = Json<Awaited<ReturnType<typeof listUsers>>[number]>;
export type SessionRow = Json<Awaited<ReturnType<typeof listSessions>>[number]> & { current: boolean };
export type ReconciliationViewRow = Json<ReconciliationView>;
export type ReconciliationSummary = Json<Awaited<ReturnType<typeof reconciliationSummary>>>;
export type TokenRow = Json<Awaited<ReturnType<typeof listTokens>>[number]>;
export type { Health, LatencyPoint, RetryRateRow, Summary };
export type OutcomePoint = { t: string } & Record<
  'accepted' | 'duplicate' | 'rejected' | 'malformed' | 'ignored' | 'unavailable',
  number
>;

export type {
  ProviderDeliveryPage,
  ProviderDeliveryRow,
  ProviderWebhookRow as ProviderWebhook,
} from '@/lib/providers/types';

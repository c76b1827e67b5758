import type { Actor } from '@/db/queries/audit';
// The contract every webhook provider implements. The receiver, the worker and the dashboard know
// providers only through this type and the registry (./registry.ts); a provider's own folder
// (lib/providers/<name>/) is the only place that knows its headers, envelope and signature scheme.

/** Case-insensitive header lookup over the incoming request; null when absent. */
export type HeaderReader = (name: string) => string | null;

/** Why a signature was refused. Each provider lists its own reasons with an operator-facing message. */
export type SignatureResult<R extends string = string> =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: R };

/** What a presented signature carries, read leniently so that a wrong form can still be matched. */
export type PresentedSignature = {
  digests: Buffer[];
  algorithm: 'sha256' | 'sha1';
  /** What is wrong with its form ("upper-case hex", "missing the sha256= prefix"); null: none. */
  problem: string | null;
  /** The signed Unix time it names, for schemes that sign one. */
  signedAt: number | null;
};

/** How a provider signs, for working out why a signature was refused (lib/sources/forensics.ts). */
export type SignatureScheme = {
  /** The signature header as sent (a digest, not a secret); null when absent. */
  presented(header: HeaderReader): string | null;
  decode(presented: string): PresentedSignature;
  /** The digest the provider would have sent for these bytes and this secret. */
  digest(body: Uint8Array, secret: string, sig: PresentedSignature): Buffer;
  /** Seconds a signed time may differ from our clock; absent when the scheme signs none. */
  readonly toleranceS?: number;
};

/** One verified delivery, in the app's terms. */
export type ProviderEnvelope = {
  eventType: string;
  /**
   * The provider's id for this event, the first dedupe key (unique per source). For a provider with
   * stable ids it is the same on every retry; otherwise it may change and `fingerprint` backs it up.
   */
  dedupeId: string;
  /** The id of this one attempt when the provider sends one apart from `dedupeId`; kept per receipt. */
  attemptId: string | null;
  providerTs: Date | null;
  /**
   * The signed time the receiver holds against its freshness window (RECEIVER_MAX_AGE_HOURS); null
   * when the body carries none or the signature check already bounds the age (Sly's `t`).
   */
  signedTs: Date | null;
  data: Record<string, unknown>;
  /** What the event row keeps: the envelope, numbers exact, in a form jsonb can hold (lib/json.ts). */
  payloadText: string;
  /** Content fingerprint (event type + canonical data); null for providers whose ids are stable. */
  fingerprint: string | null;
};

export type EnvelopeResult =
  | { ok: true; envelope: ProviderEnvelope }
  | { ok: false; reason: string; eventType?: string; dedupeId?: string };

/**
 * What a request says about itself before it is verified (raw header values; the receiver strips and
 * caps them): shown on refused receipts to help an operator, never trusted for dedupe or processing.
 */
export type ClaimedIds = { dedupeId: string | null; attemptId: string | null; eventType: string | null };

/** A provider-side webhook as its management API returns it (the provider's own field names). */
export type ProviderWebhookRow = {
  id: number;
  name?: string | null;
  url: string;
  events: string[];
  is_active: boolean;
} & Record<string, unknown>;

/** One row of the provider's own delivery log: its field names, with at least these. */
export type ProviderDeliveryRow = {
  id: number | string;
  event_type: string;
  status: string;
  created_at: string;
} & Record<string, unknown>;

/** The provider's page-numbered paging, as it sends it (SkyLight's `meta`). */
export type ProviderPageMeta = {
  current_page: number;
  last_page: number;
  total: number;
} & Record<string, unknown>;

/** One page of the provider's own delivery log: rows in its field names, its paging beside them. */
export type ProviderDeliveryPage = { data: ProviderDeliveryRow[]; meta: ProviderPageMeta | null };

export type ProviderDeliveryFilter = { status?: string; page: number };

/** Where the management API is and the key for it (from the environment, or the demo sandbox). */
export type ManagementApi = { url: string; key: string };

/**
 * Who a management client asks for, highest first: an operator's action, the watchdog's reads, a
 * reconciliation run's pages. The provider's rate limit per key is shared in that order.
 */
export type ApiUse = 'operator' | 'watchdog' | 'bulk';

/**
 * One attempt in the provider's delivery log, in the app's terms, for reconciliation (server-side:
 * never sent to the browser as is).
 */
export type ProviderLogEntry = {
  /** The log row's own id. */
  rowId: string;
  deliveryId: string | null;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attemptNumber: number;
  /** What our endpoint answered, as the provider recorded it; null for no answer. */
  responseStatus: number | null;
  sentAt: Date;
  /** When a pending attempt is due. */
  nextAttemptAt: Date | null;
  /** Content fingerprint of the request body when the log carries it: links attempts whose ids differ. */
  fingerprint: string | null;
};

/** One page of the delivery log, newest first; `lastPage` null when the provider sends no paging. */
export type ProviderLogPage = { entries: ProviderLogEntry[]; lastPage: number | null };

/** The provider's management API, for providers that have one. Server-side only: it holds a key. */
export type ManagementClient = {
  listWebhooks(): Promise<ProviderWebhookRow[]>;
  setWebhookActive(id: number, isActive: boolean): Promise<ProviderWebhookRow>;
  listDeliveries(id: number, filter: ProviderDeliveryFilter): Promise<ProviderDeliveryPage>;
  /**
   * The delivery log for reconciliation, a page at a time (a 429 surfaces as `rate_limited`);
   * `status` reads only the attempts in that state.
   */
  deliveryLog(id: number, page: number, status?: 'pending' | 'failed'): Promise<ProviderLogPage>;
  /** Replaces the webhook's signing secret at the provider; the new one is answered once, here. */
  regenerateSecret?(id: number): Promise<{ secret: string }>;
  /** Delivery-log status filters the API accepts. */
  deliveryStatuses: readonly string[];
};

/** Demo mode: a local stand-in for the provider that the app starts when no API key is configured. */
export type EmbeddedSandbox = {
  secrets(): Promise<string[]>;
  apiUrl: string;
  apiKey: string;
  downstreamUrl: string;
  /** The demo's downstream outage switch; null when notifications go elsewhere (NOTIFY_WEBHOOK_URL). */
  downstream(): SandboxDownstreamStats | null;
  setDownstreamOutage(on: boolean, who: Actor): Promise<SandboxDownstreamStats>;
  /**
   * Reconciliation demo: sends a few events whose deliveries the receiver refuses (wrong secret) or
   * never sees (dropped on the way) until the provider gives up, and one refused only once.
   */
  plantLosses(): Promise<{ rejected: string[]; dropped: string[]; recovered: string[] }>;
  /** Which provider-side faults are on (the Alerts page's demo switches). */
  faults(): Promise<SandboxFaults>;
  /** Switches a fault on the provider's side, as if someone did it there; audited as sandbox_fault. */
  setFault(
    fault: SandboxFault,
    on: boolean,
    opts: { eventType?: string },
    who: Actor,
  ): Promise<SandboxFaults>;
  stop(): Promise<void>;
};

/**
 * Faults a demo provider can reproduce, one per alert condition: its webhook switched off or pointed
 * elsewhere in its own dashboard, deliveries signed with a secret we do not have, one event type stopped.
 */
export type SandboxFault = 'webhook_disabled' | 'webhook_repointed' | 'wrong_secret' | 'silence';
export type SandboxFaults = Record<SandboxFault, boolean> & { muted_events: string[] };

/** The demo downstream's counters and whether the operator's outage is on. */
export type SandboxDownstreamStats = { received: number; accepted: number; failed: number; outage: boolean };

export type SandboxEvent = { type: string; data: Record<string, unknown>; id?: string };

/** One HTTP attempt made by a sandbox sender. */
export type SandboxAttempt = { attemptId: string; status: number | null; error?: string };

/** A sender that signs and sends like the provider (retries and duplicates included), for tests. */
export type SandboxSender = {
  send(
    event: SandboxEvent,
    opts?: { duplicates?: number; retryUntilOk?: boolean },
  ): Promise<{ dedupeId: string; attempts: SandboxAttempt[] }>;
};

export type Provider<E extends string = string> = {
  /** Registry key, stored on every receipt and event as `provider`. */
  readonly name: string;
  /** For people: "SkyLight Chat". */
  readonly label: string;
  /** Whether the provider's event id survives a retry; if not, the receiver also dedupes on content. */
  readonly stableIds: boolean;
  /** Every event type the provider documents; handlers are checked against this list at compile time. */
  readonly knownEvents: readonly E[];
  /** Events about delivery itself, shown to operators with this sentence rather than as business events. */
  readonly eventNotes: Partial<Record<E, string>>;
  /**
   * The provider telling us it failed to deliver (gave up, or keeps failing): each raises the
   * `provider_notice` alert (lib/alerts/checks.ts), through the outbox like every alert.
   */
  readonly noticeEvents: readonly E[];
  /** Headers kept on the receipt only as "[redacted]" and never logged. */
  readonly redactedHeaders: readonly string[];
  /** The header an operator reads first when a signature is refused. */
  readonly signatureHeader: string;
  /** Checks the signature over the raw bytes against each secret (several during a rotation). */
  verify(raw: Uint8Array, header: HeaderReader, secrets: readonly string[], now: Date): SignatureResult;
  readonly scheme: SignatureScheme;
  /** Message per failure reason that `verify` can answer. */
  readonly signatureMessages: Readonly<Record<string, string>>;
  /** Parses and validates the verified body (headers give fallbacks the provider documents). */
  parse(raw: Uint8Array, header: HeaderReader): EnvelopeResult;
  claimed(header: HeaderReader): ClaimedIds;
  /** The provider's own delivery window: how it retries and how long it waits for our answer. */
  readonly delivery: { retryDelaysMs: readonly number[]; retryWindowMs: number; timeoutMs: number };
  /** Loaded lazily: management clients and sandboxes pull in code the receiver never needs. */
  readonly management?: (api: ManagementApi, use?: ApiUse) => Promise<ManagementClient>;
  /** The management API this deployment's environment configures for the provider, if any. */
  readonly configuredManagementApi?: () => ManagementApi | null;
  readonly embeddedSandbox?: (target: { url: string; outageDemo: boolean }) => Promise<EmbeddedSandbox>;
  readonly sandboxSender?: (target: { url: string; secret: string }) => Promise<SandboxSender>;
};

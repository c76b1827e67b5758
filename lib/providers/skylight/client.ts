import { z } from 'zod';
import { readBodyText } from '@/lib/api/body';
import { AppError, type Issue } from '@/lib/errors';
import { metrics } from '@/lib/observability/metrics';
import type { ApiUse } from '../types';
import {
  type DeliveryPage,
  type DeliveryQuery,
  envelopeOf,
  errorBodySchema,
  eventListSchema,
  type ProviderTestResult,
  type ProviderWebhook,
  type ProviderWebhookWithSecret,
  providerDeliverySchema,
  providerWebhookSchema,
  regeneratedSecretSchema,
  testResultSchema,
  type WebhookInput,
  type WebhookPatch,
  webhookWithSecretSchema,
} from './client-schemas';
import { budgetFor, type Hold, type RateBudget } from './rate-budget';

// Server-side only: it holds the management API key. UI code imports types from client-schemas.ts.

export type SkylightClientOptions = {
  baseUrl: string;
  apiKey: string;
  /** Per request, including reading the body. */
  timeoutMs?: number;
  /** Extra tries for GETs after a 429, a 5xx, a timeout or a connection error. */
  maxRetries?: number;
  /**
   * A 429 asking for a longer wait than this is not retried, nor a turn in the key's rate budget
   * waited for longer; the caller gets `rate_limited`.
   */
  maxRetryAfterMs?: number;
  /** Whose request this is: the key's rate limit is shared operator first, reconciliation last. */
  use?: ApiUse;
  fetch?: typeof fetch;
};

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Attempt = { retry: boolean; delayMs: number; error: AppError };

const BACKOFF_MS = 250;
/**
 * Largest answer read from the API: a page of 100 log rows with their request bodies is well under it;
 * past it the answer is refused unread, not buffered (only the timeout bounded it).
 */
const MAX_RESPONSE_BYTES = 8 * 1_048_576;
/** `GET /webhooks` is paginated in one doc version (C4): follow pages, but never forever. */
const MAX_LIST_PAGES = 50;

function heldBack({ retryAfterS, keptFor }: Hold, what: string): AppError {
  const why = keptFor
    ? `the rest of this API key's rate limit is kept for ${keptFor}`
    : 'the rate limit of this API key is spent';
  return new AppError('rate_limited', `SkyLight ${what} held back: ${why}; retry in ${retryAfterS} s`, {
    retryAfterS,
    held: true,
  });
}

/** SkyLight's Webhooks management API (provider-contract.md §5.7), with errors mapped to AppError. */
export class SkylightClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly use: ApiUse;
  private readonly budget: RateBudget;

  constructor(opts: SkylightClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 2;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 5_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.use = opts.use ?? 'operator';
    this.budget = budgetFor(this.baseUrl, this.apiKey);
  }

  /** Every webhook of the account, whether the provider paginates the list or not. */
  async listWebhooks(): Promise<ProviderWebhook[]> {
    const schema = envelopeOf(z.array(providerWebhookSchema));
    const first = await this.call('GET', '/webhooks', schema);
    const all = [...first.data];
    const last = Math.min(first.meta?.last_page ?? 1, MAX_LIST_PAGES);
    for (let page = 2; page <= last; page++) {
      const next = await this.call('GET', `/webhooks?page=${page}`, schema);
      all.push(...next.data);
    }
    return all;
  }

  async getWebhook(id: number): Promise<ProviderWebhook> {
    return (await this.call('GET', `/webhooks/${id}`, envelopeOf(providerWebhookSchema))).data;
  }

  async createWebhook(input: WebhookInput): Promise<ProviderWebhookWithSecret> {
    return (await this.call('POST', '/webhooks', envelopeOf(webhookWithSecretSchema), input)).data;
  }

  async updateWebhook(id: number, patch: WebhookPatch): Promise<ProviderWebhook> {
    return (await this.call('PUT', `/webhooks/${id}`, envelopeOf(providerWebhookSchema), patch)).data;
  }

  async deleteWebhook(id: number): Promise<void> {
    await this.call('DELETE', `/webhooks/${id}`, null);
  }

  async sendTest(id: number): Promise<ProviderTestResult> {
    const body = await this.call('POST', `/webhooks/${id}/test`, envelopeOf(testResultSchema));
    return { message: body.message ?? null, data: body.data ?? null };
  }

  async regenerateSecret(id: number): Promise<{ secret: string }> {
    return { secret: await this.call('POST', `/webhooks/${id}/regenerate-secret`, regeneratedSecretSchema) };
  }

  async listEvents(): Promise<string[]> {
    return (await this.call('GET', '/webhooks/events', envelopeOf(eventListSchema))).data;
  }

  async listDeliveries(id: number, query: DeliveryQuery = {}): Promise<DeliveryPage> {
    const params = new URLSearchParams();
    if (query.status) params.set('status', query.status);
    if (query.page !== undefined) params.set('page', String(query.page));
    if (query.per_page !== undefined) params.set('per_page', String(query.per_page));
    const qs = params.size > 0 ? `?${params}` : '';
    const schema = envelopeOf(z.array(providerDeliverySchema));
    const body = await this.call('GET', `/webhooks/${id}/deliveries${qs}`, schema);
    return { data: body.data, meta: body.meta ?? null };
  }

  private async call<T extends z.ZodType>(
    method: Method,
    path: string,
    schema: T,
    body?: unknown,
  ): Promise<z.infer<T>>;
  private async call(method: Method, path: string, schema: null, body?: unknown): Promise<null>;
  private async call(method: Method, path: string, schema: z.ZodType | null, body?: unknown) {
    const what = `${method} ${path.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.once(method, path, schema, body, what);
      if (!('error' in outcome)) return outcome.value;
      // Reads are retried, and the webhook PUT after a 429, which applied nothing (an operator's
      // emergency disable refused while reconciliation spent the rate limit failed outright). A write
      // that timed out or failed may have taken effect: sent again it could undo a change made since.
      const retries =
        method === 'GET' || (method === 'PUT' && outcome.error.code === 'rate_limited') ? this.maxRetries : 0;
      if (!outcome.retry || attempt >= retries) throw outcome.error;
      await new Promise((r) => setTimeout(r, outcome.delayMs));
    }
  }

  private async once(
    method: Method,
    path: string,
    schema: z.ZodType | null,
    body: unknown,
    what: string,
  ): Promise<{ value: unknown } | Attempt> {
    const backoff = (n = 0) => BACKOFF_MS * 2 ** n * (0.5 + Math.random());
    let res: Response | null = null;
    let text: string;
    const hold = await this.budget.take(this.use, this.maxRetryAfterMs);
    if (hold) {
      this.count('held');
      throw heldBack(hold, what);
    }
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-api-key': this.apiKey,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      this.budget.settle(res.headers);
      this.count(
        res.status === 429 ? 'rate_limited' : res.status < 300 && res.status >= 200 ? 'ok' : 'error',
      );
      text = await readBodyText(res, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (res === null) {
        this.budget.settle(null);
        this.count('unreachable');
      }
      // An answer too large (or not UTF-8) is the provider's: refused unread, not retried.
      if (err instanceof AppError && (err.code === 'payload_too_large' || err.code === 'bad_request')) {
        const why =
          err.code === 'payload_too_large'
            ? `more than ${MAX_RESPONSE_BYTES / 1_048_576} MB`
            : err.message === 'Invalid Content-Length'
              ? 'with an invalid Content-Length'
              : 'text that is not UTF-8';
        return {
          retry: false,
          delayMs: 0,
          error: new AppError('provider_error', `SkyLight answered ${why} for ${what}`),
        };
      }
      return { retry: true, delayMs: backoff(), error: this.unreachable(err, what) };
    }
    if (res.status >= 200 && res.status < 300) {
      if (schema === null) return { value: null };
      return { value: this.parse(text, schema, what) };
    }
    const error = this.httpError(res, text, what);
    if (error.code === 'rate_limited') {
      this.budget.refused(error.extra.retryAfterS ?? 1);
      const waitMs = (error.extra.retryAfterS ?? 1) * 1000;
      return { retry: waitMs <= this.maxRetryAfterMs, delayMs: waitMs, error };
    }
    return { retry: res.status >= 500, delayMs: backoff(), error };
  }

  private count(result: 'ok' | 'held' | 'rate_limited' | 'error' | 'unreachable') {
    metrics.managementRequests.inc({ use: this.use, result });
  }

  private parse(text: string, schema: z.ZodType, what: string): unknown {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError('provider_error', `SkyLight returned malformed JSON for ${what}`);
    }
    const result = schema.safeParse(json);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || 'body';
    throw new AppError(
      'provider_error',
      `SkyLight returned an unexpected response for ${what}: ${field}: ${issue.message}`,
    );
  }

  private httpError(res: Response, text: string, what: string): AppError {
    let parsed: z.infer<typeof errorBodySchema> = {};
    try {
      parsed = errorBodySchema.parse(JSON.parse(text));
    } catch {
      // Not the documented error shape (an HTML error page, a proxy): the status still says enough.
    }
    const said = parsed.message ? this.scrub(parsed.message).slice(0, 500) : null;
    const detail = said ? `: ${said}` : '';
    const status = res.status;
    if (status === 401 || status === 403) {
      return new AppError(
        'provider_error',
        `SkyLight rejected the API key (${status}) for ${what}${detail}. Check SKYLIGHT_API_KEY and, for 403, the key's allowed origins and the account status.`,
      );
    }
    if (status === 404) return new AppError('not_found', said ?? `SkyLight has no such resource (${what})`);
    if (status === 422 || status === 400) {
      const issues: Issue[] = Object.entries(parsed.errors ?? {}).flatMap(([field, messages]) =>
        (Array.isArray(messages) ? messages : [messages]).map((m) => ({
          path: field,
          message: this.scrub(m),
        })),
      );
      return new AppError(
        'bad_request',
        `SkyLight refused ${what}${detail}`,
        issues.length ? { issues } : {},
      );
    }
    if (status === 429) {
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      const fromReset = Number.isFinite(reset) && reset > 0 ? Math.ceil(reset - Date.now() / 1000) : NaN;
      const retryAfterS = Math.max(
        1,
        Math.ceil(parsed.retry_after ?? (Number.isFinite(fromReset) ? fromReset : 60)),
      );
      return new AppError(
        'rate_limited',
        `SkyLight rate limit reached for ${what}; retry in ${retryAfterS} s`,
        {
          retryAfterS,
        },
      );
    }
    return new AppError('provider_error', `SkyLight answered ${status} for ${what}${detail}`);
  }

  private unreachable(err: unknown, what: string): AppError {
    const e = err as Error & { cause?: { code?: string } };
    const host = new URL(this.baseUrl).host;
    const message =
      e.name === 'TimeoutError'
        ? `SkyLight did not answer ${what} within ${this.timeoutMs} ms`
        : `Cannot reach SkyLight at ${host} for ${what}: ${e.cause?.code ?? e.message}`;
    return new AppError('provider_unreachable', this.scrub(message), { cause: err });
  }

  /** The key must never end up in an error message, even if the provider echoes it. */
  private scrub(text: string): string {
    return this.apiKey ? text.split(this.apiKey).join('[redacted]') : text;
  }
}

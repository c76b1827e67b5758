import { randomUUID } from 'node:crypto';
import type { SandboxAttempt, SandboxEvent, SandboxSender } from '../types';
import { HEADER_DELIVERY_ID, HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_WEBHOOK_ID } from './protocol';
import { sign } from './signature';

export type SlySenderOptions = {
  url: string;
  secret: string | readonly string[];
  webhookId?: string;
  /** Waits between attempts; Sly's real schedule spans hours, tests want milliseconds. */
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Signing clock, so tests can send a delivery that was signed in the past. */
  now?: () => Date;
};

/**
 * Sends events as Sly does: one envelope per event with a stable `evt_` id, every attempt signed
 * afresh (`t` is the attempt's time) and carrying a new `del_` id. A failed attempt (non-2xx, timeout,
 * connection error) is retried on `retryDelaysMs`; `duplicates` re-sends a delivered event, as Sly's
 * at-least-once delivery and its replay endpoint do.
 */
export class SlySandboxSender implements SandboxSender {
  private readonly webhookId: string;
  private readonly delays: readonly number[];

  constructor(private readonly opts: SlySenderOptions) {
    this.webhookId = opts.webhookId ?? `wh_${randomUUID()}`;
    this.delays = opts.retryDelaysMs ?? [20, 40, 80];
  }

  /** The exact bytes and headers of one attempt, for tests that tamper with them. */
  build(event: SandboxEvent & { id: string }, at: Date) {
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      created_at: at.toISOString(),
      data: event.data,
    });
    return { body, headers: this.headers(event.id, body, at) };
  }

  async send(
    event: SandboxEvent,
    opts: { duplicates?: number; retryUntilOk?: boolean } = {},
  ): Promise<{ dedupeId: string; attempts: SandboxAttempt[] }> {
    const now = this.opts.now ?? (() => new Date());
    const id = event.id ?? `evt_${randomUUID()}`;
    const body = JSON.stringify({ id, type: event.type, created_at: now().toISOString(), data: event.data });
    const attempts: SandboxAttempt[] = [];
    const tries = opts.retryUntilOk === false ? 1 : this.delays.length + 1;
    for (let i = 0; i < tries; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.delays[i - 1]));
      const a = await this.attempt(id, body, now());
      attempts.push(a);
      if (a.status !== null && a.status >= 200 && a.status < 300) break;
    }
    for (let d = 0; d < (opts.duplicates ?? 0); d++) attempts.push(await this.attempt(id, body, now()));
    return { dedupeId: id, attempts };
  }

  private headers(eventId: string, body: string, at: Date, attemptId = `del_${randomUUID()}`) {
    return {
      'content-type': 'application/json',
      [HEADER_SIGNATURE]: sign(body, this.opts.secret, Math.floor(at.getTime() / 1000)),
      [HEADER_EVENT_ID]: eventId,
      [HEADER_DELIVERY_ID]: attemptId,
      [HEADER_WEBHOOK_ID]: this.webhookId,
    };
  }

  private async attempt(eventId: string, body: string, at: Date): Promise<SandboxAttempt> {
    const attemptId = `del_${randomUUID()}`;
    try {
      const res = await (this.opts.fetch ?? fetch)(this.opts.url, {
        method: 'POST',
        headers: this.headers(eventId, body, at, attemptId),
        body,
        // A redirect is not a 2xx, and the signed body goes nowhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
      await res.arrayBuffer();
      return { attemptId, status: res.status };
    } catch (err) {
      return { attemptId, status: null, error: (err as Error).message };
    }
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendText } from './http';

export type Notification = { at: Date; text: string; status: number; body: Record<string, unknown> };

export type DownstreamStats = { received: number; accepted: number; failed: number; outage: boolean };

const FLAKY = /\[flaky:(\d+):([A-Za-z0-9]+)\]/;
const KEEP = 200;
/** Flaky tokens remembered; the oldest are forgotten first (a Map iterates in insertion order). */
const TOKENS_KEEP = 10_000;

/**
 * A Slack-compatible incoming webhook (`POST {text, ...}` → 200 "ok") for the example handlers'
 * notifications. It fails on purpose: everything during an outage, and a payload carrying a
 * `[flaky:N:token]` marker the first N times that token is seen, so retries that recover and retries
 * that die both show up in demo traffic.
 */
export class Downstream {
  outage = false;
  private readonly seen = new Map<string, number>();
  private readonly recent: Notification[] = [];
  private counts = { received: 0, accepted: 0, failed: 0 };

  stats(): DownstreamStats {
    return { ...this.counts, outage: this.outage };
  }

  /** The most recent notifications, oldest first (at most 200). */
  notifications(): Notification[] {
    return [...this.recent];
  }

  async handle(req: IncomingMessage, res: ServerResponse) {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return this.answer(res, 400, 'invalid_payload', '', {});
    }
    const record = (body ?? {}) as Record<string, unknown>;
    const text = typeof record.text === 'string' ? record.text : '';
    if (typeof body !== 'object' || body === null || text === '') {
      return this.answer(res, 400, 'no_text', text, record);
    }
    if (this.outage) return this.answer(res, 500, 'outage', text, record);
    const flaky = FLAKY.exec(text);
    if (flaky) {
      const token = flaky[2]!;
      const seen = (this.seen.get(token) ?? 0) + 1;
      this.seen.set(token, seen);
      if (this.seen.size > TOKENS_KEEP) this.seen.delete(this.seen.keys().next().value!);
      if (seen <= Number(flaky[1])) return this.answer(res, 500, 'flaky downstream', text, record);
    }
    return this.answer(res, 200, 'ok', text, record);
  }

  private answer(
    res: ServerResponse,
    status: number,
    reply: string,
    text: string,
    body: Record<string, unknown>,
  ) {
    this.counts.received++;
    if (status === 200) this.counts.accepted++;
    else this.counts.failed++;
    this.recent.push({ at: new Date(), text, status, body });
    if (this.recent.length > KEEP) this.recent.shift();
    sendText(res, status, reply);
  }
}

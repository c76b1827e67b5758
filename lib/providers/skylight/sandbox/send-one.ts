import type { SandboxAttempt, SandboxEvent, SandboxSender } from '../../types';
import { HEADER_DELIVERY, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP } from '../protocol';
import { sign } from '../signature';
import { isoMicro, newDeliveryId, unixSeconds } from './format';

const RETRY_DELAYS_MS = [20, 40, 80];

/**
 * One event at a time, signed as SkyLight signs it, for tests that drive every provider the same way
 * (the streaming sandbox in ./sender.ts is the demo-mode provider). Retries and duplicates resend the
 * same `delivery_id`, as the delivery page advises deduplicating on it.
 */
export function skylightSender(target: { url: string; secret: string }): SandboxSender {
  const attempt = async (event: string, deliveryId: string, body: string): Promise<SandboxAttempt> => {
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [HEADER_EVENT]: event,
          [HEADER_DELIVERY]: deliveryId,
          [HEADER_TIMESTAMP]: String(unixSeconds(Date.now())),
          [HEADER_SIGNATURE]: sign(body, target.secret),
        },
        body,
        // A redirect is not a 2xx (as in ./sender.ts), and the signed body goes nowhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return { attemptId: deliveryId, status: res.status };
    } catch (err) {
      return { attemptId: deliveryId, status: null, error: (err as Error).message };
    }
  };
  return {
    async send(ev: SandboxEvent, opts = {}) {
      const deliveryId = ev.id ?? newDeliveryId();
      const body = JSON.stringify({
        event: ev.type,
        delivery_id: deliveryId,
        timestamp: isoMicro(Date.now()),
        data: ev.data,
      });
      const attempts: SandboxAttempt[] = [];
      const tries = opts.retryUntilOk === false ? 1 : RETRY_DELAYS_MS.length + 1;
      for (let i = 0; i < tries; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[i - 1]));
        const a = await attempt(ev.type, deliveryId, body);
        attempts.push(a);
        if (a.status !== null && a.status >= 200 && a.status < 300) break;
      }
      for (let d = 0; d < (opts.duplicates ?? 0); d++)
        attempts.push(await attempt(ev.type, deliveryId, body));
      return { dedupeId: deliveryId, attempts };
    },
  };
}

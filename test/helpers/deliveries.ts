import { randomUUID } from 'node:crypto';
import { sign } from '@/lib/providers/skylight/signature';

export type Signed = { body: string; headers: Record<string, string>; deliveryId: string };

let nextId = 1000;
export function uniqueId() {
  return nextId++;
}

/** A signed delivery as SkyLight sends it (nested shape A unless `data` is given). */
export function signedDelivery(
  secret: string,
  opts: {
    event?: string;
    deliveryId?: string;
    data?: Record<string, unknown>;
    timestamp?: string | number;
  } = {},
): Signed {
  const event = opts.event ?? 'contact.created';
  const deliveryId = opts.deliveryId ?? randomUUID();
  const data = opts.data ?? {
    contact: { id: uniqueId(), name: 'Test Contact', phone: '+15550000000', type: 'whatsapp' },
  };
  const body = JSON.stringify({
    event,
    delivery_id: deliveryId,
    timestamp: opts.timestamp ?? new Date().toISOString().replace('Z', '000Z'),
    data,
  });
  return {
    body,
    deliveryId,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': event,
      'x-skylight-delivery': deliveryId,
      'x-skylight-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-skylight-signature': sign(body, secret),
    },
  };
}

export async function post(url: string, d: { body: string | Uint8Array; headers: Record<string, string> }) {
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body as BodyInit });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  return { status: res.status, json, headers: res.headers };
}

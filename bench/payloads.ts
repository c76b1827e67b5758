import { createHash } from 'node:crypto';
import type { IngestItem } from '@/db/queries/ingest';
import { sign } from '@/lib/providers/skylight/signature';

export type Shot = { body: Buffer; headers: Record<string, string>; expect: number };
export type Mix = 'accept' | 'duplicates' | 'bad-signatures';

const TARGET_BYTES = 1024;
const EVENT = 'contact.created';
/** How far back (in fresh deliveries) a duplicate reaches: far enough to be committed already. */
const DUP_DISTANCE = 200;

/**
 * Deterministic signed deliveries: the k-th fresh delivery is byte-identical for every peer (each
 * peer has its own scratch database, so the same ids are new to each). About 1 KB each.
 */
export class Feed {
  private k = 0;
  private i = 0;
  private fresh: Shot[] = [];
  private readonly timestamp = new Date().toISOString();
  private readonly unixTs = String(Math.floor(Date.now() / 1000));

  /** `offset` keeps feeds that share one database apart (their ids never collide). */
  constructor(
    private readonly secret: string,
    private readonly mix: Mix = 'accept',
    offset = 0,
  ) {
    this.k = offset;
  }

  /** The i-th request of a mix: 25 % resend an earlier delivery, or 50 % carry a wrong signature. */
  next(): Shot {
    const i = this.i++;
    if (this.mix === 'duplicates' && i % 4 === 3 && this.fresh.length > 0) {
      return this.fresh[Math.max(0, this.fresh.length - 1 - DUP_DISTANCE)]!;
    }
    if (this.mix === 'bad-signatures' && i % 2 === 1) return this.make(this.k++, 'not-the-secret', 400);
    const shot = this.make(this.k++, this.secret, 200);
    if (this.mix === 'duplicates') {
      this.fresh.push(shot);
      if (this.fresh.length > DUP_DISTANCE * 2) this.fresh.splice(0, DUP_DISTANCE);
    }
    return shot;
  }

  take(n: number): Shot[] {
    return Array.from({ length: n }, () => this.next());
  }

  private make(k: number, secret: string, expect: number): Shot {
    const deliveryId = deliveryIdOf(k);
    const envelope = (notes: string) =>
      JSON.stringify({
        event: EVENT,
        delivery_id: deliveryId,
        timestamp: this.timestamp,
        data: {
          contact: {
            id: 100_000_000 + k,
            name: `Bench Contact ${String(k).padStart(9, '0')}`,
            phone: `+1555${String(k % 10_000_000).padStart(7, '0')}`,
            email: `contact-${String(k).padStart(9, '0')}@example.com`,
            type: 'whatsapp',
            tags: ['bench', 'lead', 'newsletter'],
            custom_fields: { source: 'benchmark', notes },
          },
        },
      });
    const bare = envelope('');
    const body = Buffer.from(envelope('x'.repeat(Math.max(0, TARGET_BYTES - Buffer.byteLength(bare)))));
    return {
      body,
      expect,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.byteLength),
        'x-skylight-event': EVENT,
        'x-skylight-delivery': deliveryId,
        'x-skylight-timestamp': this.unixTs,
        'x-skylight-signature': sign(body, secret),
      },
    };
  }
}

/**
 * The k-th delivery's id: a version-4 UUID whose bits come from a hash of k, so it is the same for every
 * peer and every run, yet spread over the key space as SkyLight's random ids are. Counting ids
 * (`…-8000-<k in hex>`, before the twentieth session) always inserted at the right edge of each
 * `delivery_id` b-tree, and no `e` followed by digits ever reached the JSON parser's number test.
 */
export function deliveryIdOf(k: number): string {
  const b = createHash('sha256').update(`bench-delivery-${k}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** An accepted delivery as the receiver hands it to the group commit (lib/receiver/receive.ts). */
export function acceptedItem(feed: Feed): IngestItem {
  const shot = feed.next();
  const text = shot.body.toString('utf8');
  const env = JSON.parse(text) as { delivery_id: string; event: string };
  return {
    receipt: {
      source: 'skylightchat',
      provider: 'skylight',
      receivedAt: new Date(),
      headers: Object.fromEntries(Object.entries(shot.headers).filter(([k]) => k !== 'x-skylight-signature')),
      deliveryId: env.delivery_id,
      attemptId: null,
      eventType: env.event,
      providerTs: new Date(),
      lagMs: 1,
      ackMs: 0,
      body: text,
      bodyBytes: shot.body.byteLength,
      outcome: 'accepted',
    },
    event: {
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: env.delivery_id,
      eventType: env.event,
      fingerprint: `fp-${env.delivery_id}`,
      payloadText: text,
      providerTs: new Date(),
    },
  };
}

import { clientKey } from '@/lib/api/client-ip';

export type BodyBudgetLimits = { perClientBytes: number; totalBytes: number };

/**
 * 16 MB per client and 256 MB in all (16 and 256 bodies at the default 1 MB limit), raised for a
 * larger body limit so that a client can always send two of the largest bodies at once.
 */
export function bodyBudgetLimits(maxBodyBytes: number): BodyBudgetLimits {
  return {
    perClientBytes: Math.max(16 * 1_048_576, 2 * maxBodyBytes),
    totalBytes: Math.max(256 * 1_048_576, 8 * maxBodyBytes),
  };
}

/**
 * Bytes of request bodies being read, per client address (an IPv6 client by its /64) and in all. A
 * client that opens many connections and trickles a large body into each would otherwise hold as
 * many buffers as it likes until the request timeout, outside the JavaScript heap and its limit. A
 * body reserves its declared length (the size limit when it declares none) until it is read.
 */
export class BodyBudget {
  private readonly perClient = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: BodyBudgetLimits) {}

  /** Reserves `bytes` for `client` (null: unknown, counted in the total only): the release, or null when over. */
  take(client: string | null, bytes: number): (() => void) | null {
    const key = client === null ? null : clientKey(client);
    const mine = key === null ? 0 : (this.perClient.get(key) ?? 0);
    if (this.total + bytes > this.limits.totalBytes) return null;
    if (key !== null && mine + bytes > this.limits.perClientBytes) return null;
    this.total += bytes;
    if (key !== null) this.perClient.set(key, mine + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= bytes;
      if (key === null) return;
      const left = (this.perClient.get(key) ?? 0) - bytes;
      if (left > 0) this.perClient.set(key, left);
      else this.perClient.delete(key);
    };
  }

  /** Bytes reserved now, and by how many clients (for tests and /metrics). */
  get reserved() {
    return { bytes: this.total, clients: this.perClient.size };
  }
}

/** What a refused request may leave behind. */
export type RefusalRecord = 'detailed' | 'row' | 'counted';

export type RefusalLimits = {
  /** Per client and minute: refusals whose headers and a body sample are kept. */
  detailedPerClient: number;
  /** Per client and minute: refusals that get a receipt row at all (without headers or body). */
  rowsPerClient: number;
  /** Across all clients per minute, the same two caps, so many addresses cannot add up either. */
  detailedTotal: number;
  rowsTotal: number;
  /** Addresses tracked per minute; past this, new addresses share one bucket (bounded memory). */
  maxClients: number;
};

export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = {
  detailedPerClient: 5,
  rowsPerClient: 60,
  detailedTotal: 100,
  rowsTotal: 1200,
  maxClients: 2000,
};

const OVERFLOW = '\u0000overflow';

/**
 * Bounds what unauthenticated (refused) requests can store: per client address and per minute, the
 * first few are kept in full for diagnosis, more get a bare receipt row, and the rest are only counted
 * (rollups under fixed keys, metrics). A flood costs a fixed number of rows a minute, not one per
 * request, and the tracking itself is bounded in memory.
 */
export class RefusalSampler {
  private minute = -1;
  private perClient = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: RefusalLimits = DEFAULT_REFUSAL_LIMITS) {}

  admit(client: string | null, now = Date.now()): RefusalRecord {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.perClient.clear();
      this.total = 0;
    }
    let key = client ?? OVERFLOW;
    if (!this.perClient.has(key) && this.perClient.size >= this.limits.maxClients) key = OVERFLOW;
    const seen = (this.perClient.get(key) ?? 0) + 1;
    this.perClient.set(key, seen);
    this.total++;
    if (seen <= this.limits.detailedPerClient && this.total <= this.limits.detailedTotal) return 'detailed';
    if (seen <= this.limits.rowsPerClient && this.total <= this.limits.rowsTotal) return 'row';
    return 'counted';
  }
}

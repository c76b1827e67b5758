import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { touchSecrets } from '@/db/queries/secrets';
import { log } from '@/lib/log';

const FLUSH_MS = 2_000;

/**
 * When each stored secret last matched, written in the background every 2 s (one small update for
 * all of them) instead of once per delivery. One entry per secret id: bounded by the secrets there are.
 */
export class SecretUsage {
  private seen = new Map<number, Date>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: () => Promise<Db>) {}

  matched(id: number, at: Date) {
    const prev = this.seen.get(id);
    if (!prev || prev < at) this.seen.set(id, at);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  async flush() {
    this.timer = null;
    if (this.seen.size === 0) return;
    const batch = [...this.seen].map(([id, at]) => ({ id, at }));
    this.seen = new Map();
    try {
      await touchSecrets(await this.db(), batch);
    } catch (err) {
      // A lost "last matched" time is only a stale readiness figure; keep it for the next try.
      for (const { id, at } of batch) this.matched(id, at);
      log.warn({ err: errorMessage(err) }, 'secret usage: write failed, will retry');
    }
  }
}

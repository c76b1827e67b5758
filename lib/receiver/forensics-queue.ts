import { errorMessage } from '@/db/errors';
import type { ReceiptInsert, SignatureDiagnosis } from '@/db/schema';
import { log } from '@/lib/log';
import { metrics } from '@/lib/observability/metrics';
import type { SignatureScheme } from '@/lib/providers/types';
import type { Keyring } from '@/lib/sources/directory';
import { diagnose } from '@/lib/sources/forensics';

export type ForensicJob = {
  slug: string;
  scheme: SignatureScheme;
  presented: string | null;
  body: Uint8Array;
  now: Date;
  own: Keyring;
};

export type ForensicsLimits = {
  /** Diagnoses per minute per process; refused deliveries past it are stored as `not_analysed`. */
  perMinute: number;
  /** Jobs waiting at once (each holds its body); past it, `not_analysed` too. */
  maxQueued: number;
};

export const DEFAULT_FORENSICS_LIMITS: ForensicsLimits = { perMinute: 120, maxQueued: 16 };

/**
 * Works out why signatures were refused, off the response path: the receiver answers 400 at once and
 * hands the receipt row here; it is recorded once diagnosed. One job at a time, yielding to the event
 * loop between jobs, each bounded (lib/sources/forensics.ts HMAC_BUDGET), with a cap per minute and a
 * bounded queue: a flood of garbage signatures costs a fixed amount of work and memory a minute.
 */
export class ForensicsQueue {
  private readonly queue: Array<{ row: ReceiptInsert; job: ForensicJob }> = [];
  /** When each job of the last 60 s was admitted, oldest first (at most perMinute entries). */
  private admittedAt: number[] = [];
  private running = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly opts: {
      record: (row: ReceiptInsert) => void;
      /** Every source's keyring (cached by the directory); a failure diagnoses with this source's alone. */
      keyrings: () => Promise<Map<string, Keyring>>;
      limits?: ForensicsLimits;
    },
  ) {}

  submit(row: ReceiptInsert, job: ForensicJob, now = Date.now()) {
    const limits = this.opts.limits ?? DEFAULT_FORENSICS_LIMITS;
    // A sliding minute: a calendar minute would admit twice the cap across its boundary.
    while (this.admittedAt.length > 0 && this.admittedAt[0]! <= now - 60_000) this.admittedAt.shift();
    if (this.admittedAt.length >= limits.perMinute || this.queue.length >= limits.maxQueued) {
      metrics.forensicsSkipped.inc();
      this.opts.record({ ...row, forensics: skipped(job.presented) });
      return;
    }
    this.admittedAt.push(now);
    this.queue.push({ row, job });
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.run());
    }
  }

  /** Resolves when every submitted job has been recorded (tests, shutdown). */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private async run() {
    while (this.queue.length > 0) {
      const { row, job } = this.queue.shift()!;
      let forensics: SignatureDiagnosis;
      try {
        const all = await this.opts.keyrings().catch((err) => {
          log.warn({ err: errorMessage(err) }, 'forensics: other sources unavailable');
          return new Map<string, Keyring>();
        });
        const own = all.get(job.slug);
        forensics = diagnose({
          scheme: job.scheme,
          presented: job.presented,
          body: job.body,
          now: job.now,
          // The keyring the receiver checked, plus the retired secrets only the full read has.
          own: { active: job.own.active, inactive: own?.inactive ?? job.own.inactive },
          others: [...all].filter(([slug]) => slug !== job.slug),
        });
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'forensics: diagnosis failed');
        forensics = skipped(job.presented);
      }
      this.opts.record({ ...row, forensics });
      // Between jobs, requests come first.
      await new Promise((r) => setImmediate(r));
    }
    this.running = false;
    for (const r of this.idle.splice(0)) r();
  }
}

function skipped(presented: string | null): SignatureDiagnosis {
  return {
    cause: 'not_analysed',
    detail: 'Not analysed: too many refused deliveries this minute (the analysis is capped).',
    presented: presented?.slice(0, 300) ?? null,
    hmacs: 0,
  };
}

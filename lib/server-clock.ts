/**
 * The server's clock as the browser can know it. A laptop clock minutes off would slide every preset
 * range ("last hour") past the data, leaving empty trailing buckets, and misstate the time left before
 * the provider gives up on an event. Each API answer's `Date` header (whole seconds) bounds the offset:
 * the server read its clock between our sending the request and reading the answer, so
 *   date − received ≤ offset < date + 1 s − sent.
 * The bounds of the recent answers are intersected, so the estimate narrows to well under a second.
 * The page itself brings the first bound (the time the server rendered it, components/providers.tsx),
 * so even the first fetch of a page asks for the right range.
 */

type Bounds = { low: number; high: number };

/** Recent answers' bounds; a few are enough, and a clock that was reset is forgotten soon. */
const KEPT = 8;

export class ServerClock {
  private samples: Bounds[] = [];
  private offset = 0;

  /** One answer: its `Date` header, and the browser's clock when the request went and the answer came. */
  noteDateHeader(dateHeader: string | null, sentAt: number, receivedAt: number): void {
    const date = dateHeader ? Date.parse(dateHeader) : Number.NaN;
    if (Number.isFinite(date)) this.note(date, 1000, sentAt, receivedAt);
  }

  /**
   * The server read `serverMs` (truncated to `resolutionMs`) from its clock after `sentAt` and before
   * `receivedAt`, both on the browser's clock.
   */
  note(serverMs: number, resolutionMs: number, sentAt: number, receivedAt: number): void {
    if (!Number.isFinite(serverMs) || !(receivedAt >= sentAt)) return;
    this.samples.push({ low: serverMs - receivedAt, high: serverMs + resolutionMs - sentAt });
    if (this.samples.length > KEPT) this.samples.shift();
    let low = Number.NEGATIVE_INFINITY;
    let high = Number.POSITIVE_INFINITY;
    for (const s of this.samples) {
      low = Math.max(low, s.low);
      high = Math.min(high, s.high);
    }
    if (low > high) {
      // The bounds disagree: one of the clocks was set meanwhile. The newest answer is the truth now.
      this.samples = [this.samples[this.samples.length - 1]!];
      ({ low, high } = this.samples[0]!);
    }
    this.offset = Math.round((low + high) / 2);
  }

  /** Milliseconds to add to the browser's clock to read the server's (0 until an answer came). */
  get offsetMs(): number {
    return this.offset;
  }

  now(): number {
    return Date.now() + this.offset;
  }
}

/** The browser's one estimate, fed by every API call (lib/queries/fetch-json.ts). */
export const serverClock = new ServerClock();

/** The server's time now, as well as the browser knows it: what pages compare deadlines and ranges with. */
export const serverNow = (): number => serverClock.now();

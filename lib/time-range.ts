import { formatTime } from './format';
import { MAX_RANGE_MS, rangeMs, TIME_RANGES, type TimeRange } from './metrics/buckets';
import { serverNow } from './server-clock';

/**
 * What a page's URL says about time: a preset (`range=24h`, or `all` where the page offers it) or a
 * custom absolute range (`from=…&to=…`, ISO 8601). A valid custom range wins over the preset.
 */
export type RangeSelection = { range: TimeRange | 'all'; from?: Date | null; to?: Date | null };
export type ResolvedRange = { from?: Date; to?: Date; custom: boolean };

/** Why a custom range cannot be used, or null when it can. The API answers the same messages (400). */
export function customRangeProblem(from: Date, to: Date): string | null {
  if (!(from.getTime() < to.getTime())) return '`from` must be before `to`';
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) return 'range too long: at most 400 days';
  return null;
}

/**
 * The window to query. Presets end "now" on the server's clock (computed at fetch time so each refresh
 * slides them); a custom range is fixed. An invalid custom range (a hand-edited URL) reads as the preset.
 */
export function resolveRange(sel: RangeSelection, now = serverNow()): ResolvedRange {
  if (sel.from && sel.to && customRangeProblem(sel.from, sel.to) === null) {
    return { from: sel.from, to: sel.to, custom: true };
  }
  if (sel.range === 'all') return { custom: false };
  return { from: new Date(now - rangeMs(sel.range)), to: new Date(now), custom: false };
}

/** Length of the selected window (for axis labels); `all` counts as long. */
export function spanMs(sel: RangeSelection): number {
  const r = resolveRange(sel);
  return r.from && r.to ? r.to.getTime() - r.from.getTime() : Number.POSITIVE_INFINITY;
}

export function isPreset(v: string): v is TimeRange {
  return (TIME_RANGES as readonly string[]).includes(v);
}

/** A moment as a `datetime-local` input value ("2026-01-31T14:05") in the given zone. */
export function toWallClock(d: Date, timeZone: string): string {
  return formatTime(d.toISOString(), timeZone).replace(' ', 'T').slice(0, 16);
}

/**
 * A `datetime-local` value read as wall-clock time in the given IANA zone; null if it is not one.
 * The zone's offset at that moment is found by formatting a first guess back (twice, so a guess that
 * lands across a summer-time change settles on the offset in force at the result).
 */
export function fromWallClock(value: string, timeZone: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const asUtc = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  if (!Number.isFinite(asUtc)) return null;
  let t = asUtc;
  for (let i = 0; i < 2; i++) {
    const shown = Date.parse(`${formatTime(new Date(t).toISOString(), timeZone).replace(' ', 'T')}Z`);
    t -= shown - asUtc;
  }
  return new Date(t);
}

/** The API's `from`/`to` for a selection, resolved now (call it at fetch time, not at render). */
export function rangeParams(sel: RangeSelection): { from?: string; to?: string } {
  const r = resolveRange(sel);
  return { from: r.from?.toISOString(), to: r.to?.toISOString() };
}

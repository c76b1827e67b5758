import { createParser } from 'nuqs/server';
import { SOURCE_SLUG_PATTERN } from '@/db/schema';
import { isSafeText } from './text';

/** What Next passes as a page's searchParams (after awaiting). */
export type RawSearchParams = Record<string, string | string[] | undefined>;

/** First value of each key: pages read URLs people type, so repeats are not an error there. */
export function firstValues(sp: RawSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sp)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined && first !== '') out[k] = first;
  }
  return out;
}

// Lenient URL fields for nuqs: a value that does not parse reads as unset instead of failing the page.
const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,100}$/;
export const parseAsEventType = createParser({
  parse: (v) => (EVENT_TYPE.test(v) ? v : null),
  serialize: (v: string) => v,
});
export const parseAsText = createParser({
  parse: (v) => {
    const t = v.trim();
    return t && t.length <= 200 && isSafeText(t) ? t : null;
  },
  serialize: (v: string) => v,
});
export const parseAsId = createParser({
  parse: (v) => (/^[1-9][0-9]{0,15}$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER ? Number(v) : null),
  serialize: (v: number) => String(v),
});
/** "1" or absent: the form the existing links use. */
export const parseAsFlag = createParser<boolean>({
  parse: (v) => (v === '1' ? true : null),
  serialize: () => '1',
});
/** A source slug (the Webhooks page lists them); anything else means "all sources". */
export const parseAsSource = createParser({
  parse: (v) => (SOURCE_SLUG_PATTERN.test(v) ? v : null),
  serialize: (v: string) => v,
});
/** An ISO 8601 moment with a zone (`Z` or an offset), as the custom range's `from`/`to` carry it. */
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const parseAsIsoTime = createParser<Date>({
  parse: (v) => {
    if (!ISO_MOMENT.test(v)) return null;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  },
  serialize: (d) => d.toISOString(),
  eq: (a, b) => a.getTime() === b.getTime(),
});

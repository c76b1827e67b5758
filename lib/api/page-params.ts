import { z } from 'zod';
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

/** "?a=1&b=2" from filters, leaving out unset values and values equal to their default. */
export function toSearch(
  values: Record<string, string | number | boolean | undefined>,
  defaults: Record<string, unknown> = {},
) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '' || v === false || v === defaults[k]) continue;
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** Lenient URL fields: a bad value falls back to the default instead of failing the page. */
export const urlEventType = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/)
  .optional()
  .catch(undefined);
/** A source slug (the Webhooks page lists them); anything else means "all sources". */
export const urlSource = z.string().regex(SOURCE_SLUG_PATTERN).optional().catch(undefined);

export const urlText = z.string().trim().max(200).refine(isSafeText).optional().catch(undefined);
export const urlId = z.coerce
  .number()
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .optional()
  .catch(undefined);

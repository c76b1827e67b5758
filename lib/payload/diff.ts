import { isLosslessNumber, LosslessNumber } from 'lossless-json';
import diff from 'microdiff';
import { stringifyJson } from '@/lib/json';

export type PayloadChange = {
  /** `data.contact.email`, array positions as `[2]`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** JSON text of the value before (absent for `added`) and after (absent for `removed`). */
  before?: string;
  after?: string;
};

/** Changes listed past this are summarised: a detail page is for reading, not for a full dump. */
export const MAX_CHANGES = 200;
const MAX_VALUE_CHARS = 500;

function show(v: unknown): string {
  const text = stringifyJson(restored(v));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

const NUMBER_MARK = 'json-number:';

/**
 * microdiff compares leaves by identity and walks into objects, a LosslessNumber (a number past what
 * a double holds, from parseJsonLossless) included: each becomes the registered symbol of its digits,
 * the same symbol exactly when the digits are.
 */
function comparable(v: unknown): unknown {
  if (isLosslessNumber(v)) return Symbol.for(NUMBER_MARK + String(v));
  if (Array.isArray(v)) return v.map(comparable);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, comparable(x)]));
  return v;
}

function restored(v: unknown): unknown {
  if (typeof v === 'symbol') return new LosslessNumber(v.description!.slice(NUMBER_MARK.length));
  if (Array.isArray(v)) return v.map(restored);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restored(x)]));
  return v;
}

function pathText(path: Array<string | number>): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p),
    '',
  );
}

/**
 * What changed from one payload to another, field by field (microdiff: a small, maintained deep
 * diff over plain JSON values), in path order so related fields sit together.
 */
export function diffPayloads(
  before: unknown,
  after: unknown,
): { changes: PayloadChange[]; truncated: number } {
  const isObj = (v: unknown) => typeof v === 'object' && v !== null;
  const [a, b] = [comparable(before), comparable(after)];
  if (!isObj(a) || !isObj(b)) {
    if (a === b) return { changes: [], truncated: 0 };
    return {
      changes: [{ path: '', kind: 'changed', before: show(a), after: show(b) }],
      truncated: 0,
    };
  }
  const all = diff(a as Record<string, unknown>, b as Record<string, unknown>)
    .map((d): PayloadChange => {
      const path = pathText(d.path);
      if (d.type === 'CREATE') return { path, kind: 'added', after: show(d.value) };
      if (d.type === 'REMOVE') return { path, kind: 'removed', before: show(d.oldValue) };
      return { path, kind: 'changed', before: show(d.oldValue), after: show(d.value) };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes: all.slice(0, MAX_CHANGES), truncated: Math.max(0, all.length - MAX_CHANGES) };
}

export type ObjectRef = { entity: string; id: string };

/**
 * The object an event is about: the entity is the event type's first part (`contact.updated` →
 * contact), its id `data.<entity>.id`, or `data.id` for the flat form (the handlers read both).
 */
export function objectRefOf(eventType: string, payload: unknown): ObjectRef | null {
  const entity = eventType.split('.')[0];
  if (!entity || typeof payload !== 'object' || payload === null) return null;
  const data = (payload as Record<string, unknown>).data;
  if (typeof data !== 'object' || data === null) return null;
  const nested = (data as Record<string, unknown>)[entity];
  const holder = typeof nested === 'object' && nested !== null && !Array.isArray(nested) ? nested : data;
  const id = (holder as Record<string, unknown>).id;
  // An id past 2^53 comes from the lossless parse as a LosslessNumber: its digits, as sent.
  return typeof id === 'string' || typeof id === 'number' || isLosslessNumber(id)
    ? { entity, id: String(id) }
    : null;
}

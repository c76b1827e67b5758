import { createSchema, type Schema } from 'genson-js';

/** Deeper than this is not a field an operator watches; it also bounds the work per delivery. */
export const MAX_DEPTH = 8;
const MAX_PATH_CHARS = 200;

/**
 * A payload's shape: each field path (`data.contact.email`; array items as `data.tags[]`) with the
 * JSON type found there. genson-js infers the JSON Schema (it tells integers from other numbers,
 * merges the items of mixed arrays into one `anyOf`); this flattens it into paths. Integers count as
 * numbers: `5` then `5.5` is the same field, not a type change. Mixed types at one path (in an array's
 * items) are joined, sorted, with `|`.
 */
export function shapeOf(payload: unknown): Map<string, string> {
  const out = new Map<string, Set<string>>();
  walk(createSchema(payload), '', 0, out);
  out.delete('');
  return new Map([...out].map(([path, types]) => [path, [...types].sort().join('|')]));
}

function walk(schema: Schema, path: string, depth: number, out: Map<string, Set<string>>) {
  if (depth > MAX_DEPTH || path.length > MAX_PATH_CHARS) return;
  for (const member of schema.anyOf ?? []) walk(member, path, depth, out);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 0) {
    const seen = out.get(path) ?? new Set<string>();
    for (const t of types) seen.add(t === 'integer' ? 'number' : t);
    out.set(path, seen);
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    walk(child, path ? `${path}.${key}` : key, depth + 1, out);
  }
  if (schema.items) walk(schema.items, `${path}[]`, depth + 1, out);
}

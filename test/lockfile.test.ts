import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// `npm install` on a fresh clone must leave package-lock.json as committed. It rewrites the lock when
// the lock lacks the optional, per-platform packages a dependency declares (biome's and Next's native
// binaries for macOS and Windows were missing: a lock written by an npm that pruned them for Linux).

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
type Entry = { version?: string; optionalDependencies?: Record<string, string> };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, Entry>;
};

/** Where npm would look for `name` required from the package at `from` (nearest node_modules up). */
function resolve(from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return null;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

test('the lock lists every optional dependency of every package, for every platform', () => {
  const missing: string[] = [];
  for (const [at, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolve(at, name)) missing.push(`${at || '(root)'} → ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

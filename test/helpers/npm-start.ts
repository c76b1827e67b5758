import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The node arguments `npm start` runs in `dir` (its package.json start script, `exec node …`), so
 * the tests and the benchmarks start the app with the same runtime flags a user's `npm start` has
 * (the heap limit among them) without npm's own process in the measured process group.
 */
export function npmStartArgs(dir: string): string[] {
  const script: string = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts.start;
  const m = /^exec node (.+)$/.exec(script.trim());
  if (!m) throw new Error(`package.json start script is not "exec node …": ${script}`);
  return m[1]!.split(/\s+/).map((a) => (a.endsWith('.ts') ? path.join(dir, a) : a));
}

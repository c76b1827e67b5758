// `npm run test:faults`: the fault suite, one file at a time. Not scripts/test.ts: its runner caps
// every file at 120 s and runs two at once, while the full crash test takes ~2 minutes, the soak 10,
// and rates and memory must be measured without a neighbour. `--short` runs the npm test version.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join(dir, f));
const short = process.argv.includes('--short');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      FAULTS_FULL: short ? '' : '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    },
  },
);
process.exit(r.status ?? 1);

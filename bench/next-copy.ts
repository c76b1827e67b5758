import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const NOOP_ROUTE = `// Benchmark-only route (bench/next-copy.ts): the framework ceiling, N0. Never part of the product.
export const dynamic = 'force-dynamic';

export async function POST(request: Request) {
  await request.arrayBuffer();
  return Response.json({ received: true });
}
`;

const CONFIG_ANCHOR = 'const config: NextConfig = {';
/** Not part of the server: others' work in progress there must not break the bench's build. */
const SKIP = /^(bench|test|e2e)\/|\.test\.tsx?$/;

/**
 * Copies the app's working tree into /tmp/bench-next-<hash>, adds the no-op route and builds it
 * there, so nothing in the repository (nor its .next) is touched. A copy whose hash matches the
 * current sources is reused, so repeated runs skip the build.
 */
export async function prepareNextCopy(repo: string, log: (s: string) => void): Promise<string> {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo })
    .toString()
    .split('\0')
    .filter((f) => f && !SKIP.test(f) && existsSync(path.join(repo, f)));
  const hash = createHash('sha256');
  hash.update(NOOP_ROUTE).update(SKIP.source).update('recipe 2');
  for (const f of files.sort())
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(path.join(repo, f)));
  const dir = `/tmp/bench-next-${hash.digest('hex').slice(0, 16)}`;
  // The build also needs the node_modules it was made with: a copy made from a worktree since removed
  // has a dangling link (and a build that may point into it), so it is made again.
  if (
    existsSync(path.join(dir, '.next', 'BUILD_ID')) &&
    existsSync(path.join(dir, 'node_modules/.bin/next'))
  ) {
    log(`next: reusing build in ${dir}`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  for (const f of files) {
    const to = path.join(dir, f);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, readFileSync(path.join(repo, f)));
  }
  // node_modules is a symlink into the repository, outside the copy: widen Turbopack's root to reach
  // it. Type checking is `npm run check`'s job, not the bench's: skip it here.
  const configPath = path.join(dir, 'next.config.ts');
  const config = readFileSync(configPath, 'utf8');
  if (!config.includes(CONFIG_ANCHOR)) throw new Error('next.config.ts: cannot find the config object');
  writeFileSync(
    configPath,
    config.replace(
      CONFIG_ANCHOR,
      `${CONFIG_ANCHOR}\n  turbopack: { root: '/' },\n  typescript: { ignoreBuildErrors: true },`,
    ),
  );
  mkdirSync(path.join(dir, 'app/api/bench-noop'), { recursive: true });
  writeFileSync(path.join(dir, 'app/api/bench-noop/route.ts'), NOOP_ROUTE);
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  log(`next: building a copy of the app in ${dir} (takes a minute or two)`);
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(path.join(dir, 'node_modules/.bin/next'), ['build'], {
      cwd: dir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`next build failed (${code}):\n${out.slice(-4000)}`)),
    );
  });
  log(`next: built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // Copies of older sources are of no further use (each is a few hundred MB of build output).
  for (const old of readdirSync('/tmp')) {
    if (old.startsWith('bench-next-') && `/tmp/${old}` !== dir)
      rmSync(`/tmp/${old}`, { recursive: true, force: true });
  }
  return dir;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApi } from './api';
import { handleControl } from './control';
import { type CoreOptions, SandboxCore } from './core';
import { newApiKey } from './format';
import { sendJson } from './http';
import { MemoryStore } from './store-memory';

export type SandboxOptions = Partial<CoreOptions> & {
  apiKey?: string;
  host?: string;
  port?: number;
  /** SkyLight allows 120 requests per minute per key (provider-contract.md §5.5). */
  rateLimit?: { limit: number; windowMs: number };
};

export type Sandbox = {
  core: SandboxCore;
  origin: string;
  /** Management API base, like https://dashboard.skylightchat.com/api/v1. */
  apiUrl: string;
  /** Slack-compatible incoming webhook for the example handlers' notifications. */
  downstreamUrl: string;
  controlUrl: string;
  apiKey: string;
  stop(): Promise<void>;
};

const API_PREFIX = '/api/v1';
const CONTROL_PREFIX = '/_sandbox';

/** Fixed windows per credential; the docs do not say fixed or sliding, fixed is the simpler reading. */
class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  hit(key: string): { headers: Record<string, string>; retryAfterS: number | null } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.sweep(now);
    }
    w.count++;
    const resetMs = w.start + this.windowMs;
    const headers = {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.limit - w.count)),
      'x-ratelimit-reset': String(Math.ceil(resetMs / 1000)),
    };
    const over = w.count > this.limit;
    return { headers, retryAfterS: over ? Math.max(1, Math.ceil((resetMs - now) / 1000)) : null };
  }

  private sweep(now: number) {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}

function credential(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim() || null;
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key !== '' ? key : null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Starts the sandbox's HTTP server: management API, control API and downstream sink on one port. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const core = new SandboxCore({ ...opts, store: opts.store ?? new MemoryStore() });
  const apiKey = opts.apiKey ?? newApiKey();
  const keyDigest = digest(apiKey);
  const limiter = new RateLimiter(opts.rateLimit?.limit ?? 120, opts.rateLimit?.windowMs ?? 60_000);
  const log = opts.log;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/downstream/notify' && req.method === 'POST')
      return core.downstream.handle(req, res);
    const isApi = url.pathname.startsWith(`${API_PREFIX}/`);
    const isControl = url.pathname.startsWith(`${CONTROL_PREFIX}/`);
    if (!isApi && !isControl) return sendJson(res, 404, { success: false, message: 'Not found.' });

    const key = credential(req);
    const authed = key !== null && timingSafeEqual(digest(key), keyDigest);
    if (isControl) {
      if (!authed) return sendJson(res, 401, { error: { message: 'Unauthenticated.' } });
      return handleControl(core, req, res, url.pathname.slice(CONTROL_PREFIX.length));
    }
    // Counted per presented credential (or per address without one), so a bad key cannot drain ours.
    const rate = limiter.hit(key ?? `addr:${req.socket.remoteAddress}`);
    if (rate.retryAfterS !== null) {
      return sendJson(
        res,
        429,
        { success: false, message: 'Too Many Attempts.', retry_after: rate.retryAfterS },
        rate.headers,
      );
    }
    if (!authed) return sendJson(res, 401, { success: false, message: 'Unauthenticated.' }, rate.headers);
    return handleApi(core, req, res, url.pathname.slice(API_PREFIX.length), url.searchParams, rate.headers);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log?.warn({ err }, 'sandbox: request failed');
      if (!res.headersSent) sendJson(res, 500, { success: false, message: 'Server Error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${opts.host ?? '127.0.0.1'}:${port}`;

  return {
    core,
    origin,
    apiUrl: `${origin}${API_PREFIX}`,
    downstreamUrl: `${origin}/downstream/notify`,
    controlUrl: `${origin}${CONTROL_PREFIX}`,
    apiKey,
    stop: async () => {
      await core.sender.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

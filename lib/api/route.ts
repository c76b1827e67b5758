import type { z } from 'zod';
import { getDb } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { authenticate, type Principal, requireRole } from '@/lib/auth/require';
import type { Role } from '@/lib/auth/roles';
import { env } from '@/lib/env';
import { AppError, fromZod, toResponse } from '@/lib/errors';
import { log } from '@/lib/log';
import { clientAddress } from './client-ip';
import { encodeCursor } from './cursor';

type Ctx<P> = { params: Promise<P> };

/** The authenticated caller with its address: also what the audit records (an `Actor`). */
export type Caller = Principal & { ip: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Wraps a route handler: authenticates the request (session cookie or API token, with the origin
 * check for state-changing methods), requires the role the route declares (viewer reads, operator
 * acts on events and webhooks, admin manages people and configuration), and maps anything thrown to
 * the error response. A refused state change by a known caller is audited with its error code.
 */
export function authed<P = Record<string, string>>(
  role: Role,
  fn: (request: Request, who: Caller, params: P) => Promise<Response>,
) {
  return async (request: Request, ctx: Ctx<P>): Promise<Response> => {
    let who: Caller | null = null;
    try {
      who = { ...(await authenticate(request)), ip: clientIp(request) };
      requireRole(who, role);
      return await fn(request, who, await ctx.params);
    } catch (err) {
      if (who && err instanceof AppError && !SAFE_METHODS.has(request.method))
        await auditRefusal(who, request, err);
      return toResponse(err);
    }
  };
}

async function auditRefusal(who: Caller, request: Request, err: AppError) {
  const target = `${request.method} ${new URL(request.url).pathname}`.slice(0, 300);
  try {
    await insertAudit(await getDb(), who, 'request_refused', target, null, {
      result: 'refused',
      code: err.code,
    });
  } catch (auditErr) {
    log.warn({ err: auditErr }, 'could not audit a refused request');
  }
}

/** Parses the query string. Empty values mean "unset"; a repeated key is an error, not a guess. */
export function parseQuery<S extends z.ZodType>(schema: S, request: Request): z.output<S> {
  const params = new URL(request.url).searchParams;
  const raw: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (values.length > 1) throw new AppError('bad_request', `Invalid query: ${key} given more than once`);
    if (values[0] !== '') raw[key] = values[0]!;
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw fromZod(r.error, 'query');
  return r.data;
}

const MAX_BODY_BYTES = 64 * 1024;

/** Parses a JSON body (at most 64 KiB). An empty body counts as `{}`. */
export async function parseBody<S extends z.ZodType>(schema: S, request: Request): Promise<z.output<S>> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError('payload_too_large', 'Request body too large');
  let json: unknown = {};
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError('bad_request', 'Invalid body: not JSON');
    }
  }
  const r = schema.safeParse(json);
  if (!r.success) throw fromZod(r.error, 'body');
  return r.data;
}

export function parseParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw fromZod(r.error, 'path');
  return r.data;
}

const NO_STORE = { 'Cache-Control': 'no-store' };

export function ok(data: unknown, init: { status?: number; nextId?: number | null } = {}): Response {
  const body =
    init.nextId === undefined
      ? { data }
      : { data, next_cursor: init.nextId === null ? null : encodeCursor(init.nextId) };
  return Response.json(body, { status: init.status ?? 200, headers: NO_STORE });
}

/** The caller's address for audit rows and rate limits: the socket's, or per TRUST_PROXY. */
export function clientIp(request: Request): string {
  return clientAddress(request.headers, env.TRUST_PROXY);
}

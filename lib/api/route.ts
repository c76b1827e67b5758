import type { z } from 'zod';
import { ConflictError } from '@/db/errors';
import { insertAudit } from '@/db/queries/audit';
import { authenticate, type Principal, requireRole } from '@/lib/auth/require';
import type { Role } from '@/lib/auth/roles';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { AppError, fromZod, toResponse } from '@/lib/errors';
import { log } from '@/lib/log';
import { MAX_API_BODY_BYTES, readBodyText } from './body';
import { clientAddress } from './client-ip';
import { encodeCursor } from './cursor';
import { findUnsafeText, UNSAFE_TEXT_MESSAGE } from './text';

type Ctx<P> = { params: Promise<P> };

/** The authenticated caller with its address: also what the audit records (an `Actor`). */
export type Caller = Principal & { ip: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const AUDITED_REFUSALS: ReadonlySet<string> = new Set(['forbidden', 'conflict']);

/**
 * Wraps a route handler: authenticates the request (session cookie or API token, with the origin
 * check for state-changing methods), requires the role the route declares (viewer reads, operator
 * acts on events and webhooks, admin manages people and configuration), refuses a declared body
 * larger than any route reads, and maps anything thrown to the error response. A state change the
 * caller's role or the state does not allow is audited with its error code.
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
      refuseDeclaredOversize(request);
      return await fn(request, who, await ctx.params);
    } catch (err) {
      // A change the caller's role or the state does not allow is audited (the last admin's
      // demotion, say); invalid input is only answered (it changes nothing, and auditing it would
      // let any caller flood the audit log).
      // (db/ throws its own ConflictError for a row in the wrong state: a dead letter no longer dead.)
      const refusal = err instanceof AppError || err instanceof ConflictError ? err : null;
      if (who && refusal && AUDITED_REFUSALS.has(refusal.code) && !SAFE_METHODS.has(request.method))
        await auditRefusal(who, request, refusal);
      return toResponse(err);
    }
  };
}

async function auditRefusal(who: Caller, request: Request, err: { code: string }) {
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
  const entries: Array<[string, string]> = [];
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (values.length > 1) throw new AppError('bad_request', `Invalid query: ${key} given more than once`);
    if (values[0] !== '') entries.push([key, values[0]!]);
  }
  // fromEntries defines own properties, so `__proto__=1` is an unknown key like any other.
  const raw = Object.fromEntries(entries);
  refuseUnsafeText(raw, 'query');
  const r = schema.safeParse(raw);
  if (!r.success) throw fromZod(r.error, 'query');
  return r.data;
}

/** A Content-Length over the API's body limit is refused before anything reads the body. */
function refuseDeclaredOversize(request: Request) {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > MAX_API_BODY_BYTES) {
    throw new AppError('payload_too_large', `Request body too large: at most ${MAX_API_BODY_BYTES} bytes`);
  }
}

/**
 * Strings the database cannot hold or compare (NUL, other control characters, unpaired surrogates)
 * are refused wherever input enters the API, so no route can pass one on to a query.
 */
function refuseUnsafeText(value: unknown, what: string) {
  const at = findUnsafeText(value);
  if (at === null) return;
  const issues = [{ path: at, message: UNSAFE_TEXT_MESSAGE }];
  throw new AppError('bad_request', `Invalid ${what}: ${at ? `${at}: ` : ''}${UNSAFE_TEXT_MESSAGE}`, {
    issues,
  });
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Parses a JSON body, read with a running cap (lib/api/body.ts). An empty body counts as `{}`; a
 * non-empty one must be sent as `application/json`.
 */
export async function parseBody<S extends z.ZodType>(schema: S, request: Request): Promise<z.output<S>> {
  const text = await readBodyText(request);
  let json: unknown = {};
  if (text.trim() !== '') {
    if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
      throw new AppError('unsupported_media_type', 'Send the body as application/json');
    }
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError('bad_request', 'Invalid body: not JSON');
    }
  }
  refuseUnsafeText(json, 'body');
  const r = schema.safeParse(json);
  if (!r.success) throw fromZod(r.error, 'body');
  return r.data;
}

export function parseParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  refuseUnsafeText(params, 'path');
  const r = schema.safeParse(params);
  if (!r.success) throw fromZod(r.error, 'path');
  return r.data;
}

const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * A success body: `{data}`, with a list's paging beside `data`: our keyset `next_cursor`, or a
 * provider's page-numbered `meta` passed through as the provider sent it.
 */
export function ok(
  data: unknown,
  init: {
    status?: number;
    nextId?: number | null;
    /** An already encoded cursor, for lists not keyed by id alone (lib/api/cursor.ts). */
    nextCursor?: string | null;
    meta?: Record<string, unknown> | null;
  } = {},
): Response {
  const body = {
    data,
    ...(init.nextId === undefined
      ? {}
      : { next_cursor: init.nextId === null ? null : encodeCursor(init.nextId) }),
    ...(init.nextCursor === undefined ? {} : { next_cursor: init.nextCursor }),
    ...(init.meta === undefined ? {} : { meta: init.meta }),
  };
  return Response.json(body, { status: init.status ?? 200, headers: NO_STORE });
}

/** The caller's address for audit rows and rate limits: the socket's, or per TRUST_PROXY. */
export function clientIp(request: Request): string {
  return clientAddress(request.headers, env.TRUST_PROXY);
}

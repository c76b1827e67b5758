import type { z } from 'zod';
import { requireSession, type Session } from '@/lib/auth/require';
import { AppError, fromZod, toResponse } from '@/lib/errors';
import { MAX_API_BODY_BYTES, readBodyText } from './body';
import { encodeCursor } from './cursor';
import { findUnsafeText, UNSAFE_TEXT_MESSAGE } from './text';

type Ctx<P> = { params: Promise<P> };

/**
 * Wraps a route handler: authenticates the request (session cookie or API token, with the origin
 * check for state-changing methods), refuses a declared body larger than any route reads, and maps
 * anything thrown to the error response.
 */
export function authed<P = Record<string, string>>(
  fn: (request: Request, session: Session, params: P) => Promise<Response>,
) {
  return async (request: Request, ctx: Ctx<P>): Promise<Response> => {
    try {
      const session = await requireSession(request);
      refuseDeclaredOversize(request);
      return await fn(request, session, await ctx.params);
    } catch (err) {
      return toResponse(err);
    }
  };
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
  init: { status?: number; nextId?: number | null; meta?: Record<string, unknown> | null } = {},
): Response {
  const body = {
    data,
    ...(init.nextId === undefined
      ? {}
      : { next_cursor: init.nextId === null ? null : encodeCursor(init.nextId) }),
    ...(init.meta === undefined ? {} : { meta: init.meta }),
  };
  return Response.json(body, { status: init.status ?? 200, headers: NO_STORE });
}

/** The caller's address for audit rows and rate limits: the first X-Forwarded-For hop, if any. */
export function clientIp(request: Request): string {
  const fwd = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  return (fwd || request.headers.get('x-real-ip') || 'local').slice(0, 100);
}

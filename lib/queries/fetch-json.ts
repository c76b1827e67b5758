import type { ErrorCode } from '@/lib/errors';
import { serverClock } from '@/lib/server-clock';

/** The API's error body, thrown by fetchJson so callers can tell "rate limited" from "unreachable". */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type ApiBody<T, M = Record<string, unknown>> = {
  data: T;
  next_cursor?: string | null;
  meta?: M | null;
};

/**
 * The one way the pages call the JSON API. A non-2xx answer throws ApiError (never cached as data);
 * a 401 sends the browser to the login page.
 */
export async function fetchJson<T, M = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<ApiBody<T, M>> {
  let res: Response;
  const sentAt = Date.now();
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: init.body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the dashboard server');
  }
  serverClock.noteDateHeader(res.headers.get('date'), sentAt, Date.now());
  const body = (await res.json().catch(() => null)) as
    | (ApiBody<T, M> & { error?: { code: ErrorCode; message: string } })
    | null;
  if (!res.ok || !body) {
    if (res.status === 401 && typeof window !== 'undefined' && !url.startsWith('/api/auth/')) {
      window.location.assign(
        `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
      );
    }
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      body?.error?.code ?? 'internal',
      body?.error?.message ?? `Request failed (${res.status})`,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return body;
}

/** Query string from a filter object, leaving out empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

import { PermanentError, TransientError } from '@/lib/worker/errors';

export const NOTIFY_TIMEOUT_MS = 5000;

/** Message text whose interpolated parts are escaped; only `slackText` makes one. */
export type SlackText = string & { readonly __slackText: true };

/**
 * Slack's escaping (docs.slack.dev, "Escaping text"): `&`, `<` and `>` only. Unescaped, `<!channel>`
 * in a contact's message pings everyone and `<https://evil.test|bank>` renders as a disguised link.
 */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Tagged template for notification text: the literal parts are ours (they may hold Slack markup such
 * as `:emoji:`), every `${value}` is escaped, so untrusted content can never become markup.
 */
export function slackText(parts: TemplateStringsArray, ...values: unknown[]): SlackText {
  return parts.reduce((out, part, i) => out + escapeSlack(String(values[i - 1])) + part) as SlackText;
}

/**
 * Posts a Slack-compatible message ({text}) to an incoming-webhook URL. A 5xx, timeout or connection
 * error is transient; a 4xx is permanent (CONTRACT.md), a 429 too but as a RateLimitedError, which
 * the alert channel retries after the time the downstream asked for.
 */
export async function postNotification(url: string, text: SlackText, extra: Record<string, unknown> = {}) {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, ...extra }),
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    const name = (err as Error).name;
    throw new TransientError(
      name === 'TimeoutError'
        ? `notify: no answer within ${NOTIFY_TIMEOUT_MS} ms`
        : `notify: ${(err as Error).message}`,
    );
  }
  await res.body?.cancel();
  if (res.status >= 500) throw new TransientError(`notify: downstream answered ${res.status}`);
  if (res.status === 429) throw new RateLimitedError(retryAfterMs(res.headers.get('retry-after')));
  if (res.status >= 400) throw new PermanentError(`notify: downstream answered ${res.status}`);
}

/** The downstream answered 429: permanent for a handler (CONTRACT.md), a pause for the alert channel. */
export class RateLimitedError extends PermanentError {
  override name = 'RateLimitedError';
  constructor(readonly retryAfterMs: number | null) {
    super('notify: downstream answered 429 (rate limited)');
  }
}

/** Retry-After in seconds (Slack's form; an HTTP date is not worth parsing here): null if absent. */
function retryAfterMs(value: string | null): number | null {
  return value !== null && /^\d{1,6}$/.test(value.trim()) ? Number(value) * 1000 : null;
}

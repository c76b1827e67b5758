import { PermanentError, TransientError } from '@/lib/worker/errors';

const TIMEOUT_MS = 5000;

/**
 * Posts a Slack-compatible message ({text}) to an incoming-webhook URL. A 5xx, timeout or connection
 * error is transient; a 4xx is permanent (CONTRACT.md).
 */
export async function postNotification(url: string, text: string, extra: Record<string, unknown> = {}) {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, ...extra }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    const name = (err as Error).name;
    throw new TransientError(
      name === 'TimeoutError'
        ? `notify: no answer within ${TIMEOUT_MS} ms`
        : `notify: ${(err as Error).message}`,
    );
  }
  await res.body?.cancel();
  if (res.status >= 500) throw new TransientError(`notify: downstream answered ${res.status}`);
  if (res.status >= 400) throw new PermanentError(`notify: downstream answered ${res.status}`);
}

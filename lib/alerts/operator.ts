import { errorMessage } from '@/db/errors';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { postNotification, type SlackText, slackText } from '@/lib/notify';

export type Alert =
  | { kind: 'malformed_delivery'; deliveryId: string | null; reason: string }
  | {
      kind: 'provider_notice';
      provider: string;
      eventType: string;
      note: string;
      eventId: number;
      detail: string;
    };

/** Every field comes from a delivery or a handler's error, so all of it is escaped. */
function text(a: Alert): SlackText {
  switch (a.kind) {
    case 'malformed_delivery':
      return slackText`:rotating_light: Malformed signed delivery ${a.deliveryId ?? '(no id)'}: ${a.reason}`;
    case 'provider_notice':
      return slackText`:rotating_light: ${a.provider}: ${a.note} (${a.eventType}, event ${a.eventId}): ${a.detail}`;
  }
}

/**
 * A one-off operator message for what has no rule (a signed but malformed delivery, a provider's own
 * notice): always logged; also posted to the alert channel when set. Never throws. Dead letters are
 * not reported one by one any more: the `dlq_growth` rule raises one incident per outage
 * (lib/alerts/engine.ts).
 */
export function alertOperators(a: Alert) {
  log.warn({ alert: a.kind, ...a }, `operator alert: ${text(a)}`);
  const url = env.ALERT_WEBHOOK_URL ?? env.NOTIFY_WEBHOOK_URL;
  if (!url) return;
  postNotification(url, text(a), { alert: a.kind }).catch((err) =>
    log.warn({ err: errorMessage(err) }, 'operator alert could not be posted'),
  );
}

import { errorMessage } from '@/db/errors';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { postNotification, type SlackText, slackText } from '@/lib/notify';

export type Alert = {
  kind: 'provider_notice';
  provider: string;
  eventType: string;
  note: string;
  eventId: number;
  detail: string;
};

/** Every field comes from a delivery or a handler's error, so all of it is escaped. */
function text(a: Alert): SlackText {
  return slackText`:rotating_light: ${a.provider}: ${a.note} (${a.eventType}, event ${a.eventId}): ${a.detail}`;
}

/**
 * A one-off operator message for what has no rule (a provider's own notice): always logged; also
 * posted to the alert channel when set. Never throws. Dead letters and malformed deliveries are not
 * reported one by one: the `dlq_growth` and `malformed` rules raise one incident per source and
 * outage (lib/alerts/engine.ts).
 */
export function alertOperators(a: Alert) {
  log.warn({ alert: a.kind, ...a }, `operator alert: ${text(a)}`);
  const url = env.ALERT_WEBHOOK_URL ?? env.NOTIFY_WEBHOOK_URL;
  if (!url) return;
  postNotification(url, text(a), { alert: a.kind }).catch((err) =>
    log.warn({ err: errorMessage(err) }, 'operator alert could not be posted'),
  );
}

import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { postNotification, type SlackText, slackText } from '@/lib/notify';

export type Alert =
  | {
      kind: 'dead_letter';
      eventId: number;
      eventType: string;
      deliveryId: string;
      error: string;
      attempts: number;
    }
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
    case 'dead_letter':
      return slackText`:rotating_light: Dead letter: ${a.eventType} (delivery ${a.deliveryId}) failed after ${a.attempts} attempt(s): ${a.error}`;
    case 'malformed_delivery':
      return slackText`:rotating_light: Malformed signed delivery ${a.deliveryId ?? '(no id)'}: ${a.reason}`;
    case 'provider_notice':
      return slackText`:rotating_light: ${a.provider}: ${a.note} (${a.eventType}, event ${a.eventId}): ${a.detail}`;
  }
}

/** Operator alert: always logged; also posted to NOTIFY_WEBHOOK_URL when set. Never throws. */
export function alertOperators(a: Alert) {
  log.warn({ alert: a.kind, ...a }, `operator alert: ${text(a)}`);
  if (!env.NOTIFY_WEBHOOK_URL) return;
  postNotification(env.NOTIFY_WEBHOOK_URL, text(a), { alert: a.kind }).catch((err) =>
    log.warn({ err: (err as Error).message }, 'operator alert could not be posted'),
  );
}

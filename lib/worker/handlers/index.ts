import { type EventOf, isProviderName, type ProviderName } from '@/lib/providers/registry';
import { bookingCreated } from './booking-created';
import { contactDeleted } from './contact-deleted';
import { contactUpsert } from './contact-upsert';
import { messageHandler } from './message';
import { recordOnly } from './record-only';
import type { Handler } from './types';

/**
 * Provider → event type → handler. The type demands an entry for every event a provider documents
 * (`recordOnly` when nothing is to be done) and refuses an event it does not document, so the
 * compiler names the gap. A new handler is one file beside this one and one line here.
 */
export type HandlerTable = { [P in ProviderName]: { readonly [E in EventOf<P>]: Handler<unknown> } };

export const HANDLERS = {
  skylight: {
    'contact.created': contactUpsert,
    'contact.updated': contactUpsert,
    'contact.deleted': contactDeleted,
    'message.received': messageHandler,
    'message.sent': messageHandler,
    'booking.created': bookingCreated,
  },
  sly: {
    'transfer.created': recordOnly,
    'transfer.completed': recordOnly,
    'transfer.failed': recordOnly,
    'transfer.refunded': recordOnly,
    'settlement.initiated': recordOnly,
    'settlement.processing': recordOnly,
    'settlement.completed': recordOnly,
    'settlement.failed': recordOnly,
    'settlement.returned': recordOnly,
    'approval.requested': recordOnly,
    'stream.alert': recordOnly,
    'webhook.test': recordOnly,
    // The provider's notices about its own delivery raise the provider_notice alert (lib/alerts).
    'webhook.failing': recordOnly,
    'webhook.dlq': recordOnly,
  },
} as const satisfies HandlerTable;

/**
 * The handler for an event of a provider. The receiver queues only documented events, so the fallback
 * serves rows written before a provider dropped an event from its list: they are marked processed.
 */
export function handlerFor(provider: string, eventType: string): { name: string; handler: Handler<unknown> } {
  const table: Partial<Record<string, Handler<unknown>>> = isProviderName(provider) ? HANDLERS[provider] : {};
  const handler = table[eventType];
  return handler ? { name: eventType, handler } : { name: 'default', handler: recordOnly };
}

import { bookingCreated } from './booking-created';
import { contactDeleted } from './contact-deleted';
import { contactUpsert } from './contact-upsert';
import { messageHandler } from './message';
import { defineHandler, type Handler } from './types';

/** Accepted events without a dedicated handler are recorded as processed and otherwise left alone. */
const noop = defineHandler({ parse: () => null, apply: async () => 'applied' as const });

/** Event type → handler. To handle a new event, add a file beside this one and a line here. */
export const HANDLERS: Record<string, Handler<unknown>> = {
  'contact.created': contactUpsert,
  'contact.updated': contactUpsert,
  'contact.deleted': contactDeleted,
  'message.received': messageHandler,
  'message.sent': messageHandler,
  'booking.created': bookingCreated,
};

export function handlerFor(eventType: string): { name: string; handler: Handler<unknown> } {
  const handler = HANDLERS[eventType];
  return handler ? { name: eventType, handler } : { name: 'default', handler: noop };
}
